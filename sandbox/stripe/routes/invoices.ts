// Invoices: retrieve, lines, pay, list.
import { idOf } from "../engine";
import { allowOnly, str } from "../params";
import { checkEach, oneOf } from "../schema";
import { LIST_PARAMS, listOf, type RouteContext } from "./router";

export function invoiceRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  // Invoices
  route("GET", "/v1/invoices/:id", (_req, id) => engine.requireInvoice(id));
  route("GET", "/v1/invoices/:id/lines", ({ params }, id) => {
    allowOnly(params, LIST_PARAMS);
    const invoice = engine.requireInvoice(id);
    return { ...invoice.lines, url: `/v1/invoices/${id}/lines` };
  });
  route("POST", "/v1/invoices/:id/pay", ({ params, ctx }, id) => {
    allowOnly(params, ["payment_method", "off_session", "paid_out_of_band"]);
    return engine.payInvoice(engine.requireInvoice(id), ctx);
  });
  route("GET", "/v1/invoices", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "subscription", "status", "collection_method", "due_date"]);
    checkEach(params, { status: oneOf("draft", "open", "paid", "uncollectible", "void"), collection_method: oneOf("charge_automatically", "send_invoice") });
    const customer = str(params, "customer");
    const subscription = str(params, "subscription");
    const status = str(params, "status");
    return listOf(
      Object.values(s().invoices).filter(
        (inv) =>
          (!customer || inv.customer === customer) &&
          (!subscription || idOf(inv.parent?.subscription_details?.subscription ?? null) === subscription) &&
          (!status || inv.status === status),
      ),
      params,
      "/v1/invoices",
    );
  });
}

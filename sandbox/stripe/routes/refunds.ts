// Charges (read-only: made by paid invoices and by payment-mode Checkout's PaymentIntents), PaymentIntents (read-only),
// invoice payments (which charge paid an invoice), refunds, of a charge or of a PaymentIntent's charge, and disputes
// (opened on charges of the dispute test card, 0259; read, or closed, which accepts them as lost).
import type Stripe from "stripe";
import { invalidRequest, resourceMissing } from "../errors";
import { allowOnly, int, str } from "../params";
import { checkEach, metadata, oneOf, string } from "../schema";
import { LIST_PARAMS, listOf, stringRecord, throwMissing, type RouteContext } from "./router";

const REFUND_REASON = oneOf("duplicate", "fraudulent", "requested_by_customer");

export function refundRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  route("GET", "/v1/charges/:id", (_req, id) => s().charges[id] ?? throwMissing("charge", id));
  route("GET", "/v1/charges", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "payment_intent", "transfer_group"]);
    const customer = str(params, "customer");
    const paymentIntent = str(params, "payment_intent");
    return listOf(
      Object.values(s().charges).filter((ch) => (!customer || ch.customer === customer) && (!paymentIntent || ch.payment_intent === paymentIntent)),
      params,
      "/v1/charges",
    );
  });

  route("GET", "/v1/payment_intents/:id", (_req, id) => s().paymentIntents[id] ?? throwMissing("payment_intent", id));
  route("GET", "/v1/payment_intents", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "created"]);
    const customer = str(params, "customer");
    return listOf(Object.values(s().paymentIntents).filter((pi) => !customer || pi.customer === customer), params, "/v1/payment_intents");
  });

  route("GET", "/v1/invoice_payments/:id", (_req, id) => s().invoicePayments[id] ?? throwMissing("invoice_payment", id));
  route("GET", "/v1/invoice_payments", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "invoice", "payment", "status"]);
    checkEach(params, { status: oneOf("canceled", "open", "paid") });
    const invoice = str(params, "invoice");
    const status = str(params, "status");
    return listOf(
      Object.values(s().invoicePayments).filter((p) => (!invoice || p.invoice === invoice) && (!status || p.status === status)),
      params,
      "/v1/invoice_payments",
    );
  });

  route("POST", "/v1/refunds", ({ params, ctx }) => {
    allowOnly(params, ["charge", "payment_intent", "amount", "reason", "metadata", "expand", "instructions_email", "refund_application_fee", "reverse_transfer"]);
    checkEach(params, { reason: REFUND_REASON, metadata, charge: string, payment_intent: string });
    const chargeId = str(params, "charge");
    const paymentIntent = str(params, "payment_intent");
    if (!chargeId && !paymentIntent) throw invalidRequest("One of the following params should be provided for this request: payment_intent or charge.");
    if (chargeId && paymentIntent) throw invalidRequest("You may only specify one of these parameters: charge, payment_intent.", "payment_intent");
    const charge = chargeId ? (s().charges[chargeId] ?? throwMissing("charge", chargeId)) : chargeOfPaymentIntent(paymentIntent ?? "");
    return engine.refundCharge(
      charge,
      { amount: int(params, "amount") ?? null, reason: (str(params, "reason") as Stripe.Refund.Reason | undefined) ?? null, metadata: stringRecord(params, "metadata") },
      ctx,
    );
  });
  route("GET", "/v1/refunds/:id", (_req, id) => s().refunds[id] ?? throwMissing("refund", id));
  route("GET", "/v1/refunds", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "charge", "payment_intent"]);
    const charge = str(params, "charge");
    const paymentIntent = str(params, "payment_intent");
    return listOf(
      Object.values(s().refunds).filter((r) => (!charge || r.charge === charge) && (!paymentIntent || r.payment_intent === paymentIntent)),
      params,
      "/v1/refunds",
    );
  });

  route("GET", "/v1/disputes/:id", (_req, id) => s().disputes?.[id] ?? throwMissing("dispute", id));
  route("GET", "/v1/disputes", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "charge", "payment_intent", "created"]);
    const charge = str(params, "charge");
    const paymentIntent = str(params, "payment_intent");
    return listOf(
      Object.values(s().disputes ?? {}).filter((d) => (!charge || d.charge === charge) && (!paymentIntent || d.payment_intent === paymentIntent)),
      params,
      "/v1/disputes",
    );
  });
  route("POST", "/v1/disputes/:id/close", ({ params, ctx }, id) => {
    allowOnly(params, ["expand"]);
    return engine.closeDispute(s().disputes?.[id] ?? throwMissing("dispute", id), ctx);
  });

  /** The charge that paid a PaymentIntent: Stripe refunds its latest charge. */
  function chargeOfPaymentIntent(id: string): Stripe.Charge {
    const intent = s().paymentIntents[id];
    if (!intent) throw resourceMissing("payment_intent", id, "payment_intent");
    const charge = intent.latest_charge ? s().charges[String(intent.latest_charge)] : undefined;
    if (!charge) throw invalidRequest(`This PaymentIntent (${id}) does not have a successful charge to refund.`, "payment_intent");
    return charge;
  }
}

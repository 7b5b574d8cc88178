// Customers (create, retrieve, update, delete, list) and their payment methods, plus /v1/payment_methods.
import { invalidRequest, resourceMissing } from "../errors";
import type { Params } from "../form";
import { allowOnly, mergeMetadata, obj, requireStr, str } from "../params";
import { checkEach, emptyable, metadata, oneOf, string } from "../schema";
import { realNow } from "../state";
import { LIST_PARAMS, listOf, readAddress, nullableStr, checkNested, stringRecord, throwMissing, type RouteContext } from "./router";

export function customerRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  // Customers
  const CUSTOMER_PARAMS = { tax_exempt: emptyable(oneOf("exempt", "none", "reverse")), metadata: emptyable(metadata), email: emptyable(string), name: emptyable(string) };
  const CUSTOMER_FIELDS = ["email", "name", "description", "phone", "address", "metadata", "invoice_settings", "payment_method", "test_clock", "preferred_locales", "shipping", "tax_exempt"];
  route("POST", "/v1/customers", ({ params, ctx }) => {
    allowOnly(params, CUSTOMER_FIELDS);
    checkEach(params, CUSTOMER_PARAMS);
    const invoiceSettings = obj(params, "invoice_settings");
    checkNested(invoiceSettings, "invoice_settings", ["default_payment_method"]);
    const customer = engine.createCustomer(
      {
        email: str(params, "email") || null,
        name: str(params, "name") || null,
        description: str(params, "description") || null,
        phone: str(params, "phone") || null,
        address: readAddress(params, "address") ?? null,
        metadata: stringRecord(params, "metadata"),
        paymentMethod: str(params, "payment_method") || null,
        testClock: str(params, "test_clock") || null,
      },
      ctx,
    );
    const defaultPm = invoiceSettings && str(invoiceSettings, "default_payment_method", "invoice_settings[default_payment_method]");
    if (defaultPm) {
      const pm = engine.attachPaymentMethod(defaultPm, customer, ctx, "invoice_settings[default_payment_method]");
      customer.invoice_settings.default_payment_method = pm.id;
    }
    return customer;
  });
  route("GET", "/v1/customers/:id", (_req, id) => {
    const customer = s().customers[id];
    if (!customer) throw resourceMissing("customer", id);
    return customer;
  });
  route("POST", "/v1/customers/:id", ({ params, ctx }, id) => {
    allowOnly(params, CUSTOMER_FIELDS.filter((f) => f !== "test_clock"));
    checkEach(params, CUSTOMER_PARAMS);
    const customer = engine.requireCustomer(id);
    const invoiceSettings = obj(params, "invoice_settings");
    checkNested(invoiceSettings, "invoice_settings", ["default_payment_method"]);
    let defaultPm: string | null | undefined;
    if (invoiceSettings) {
      const value = nullableStr(invoiceSettings, "default_payment_method");
      defaultPm = value ? engine.attachPaymentMethod(value, customer, ctx, "invoice_settings[default_payment_method]").id : value;
    }
    const paymentMethod = str(params, "payment_method");
    if (paymentMethod) defaultPm = engine.attachPaymentMethod(paymentMethod, customer, ctx).id;
    return engine.updateCustomer(
      customer,
      (c) => {
        const email = nullableStr(params, "email");
        if (email !== undefined) c.email = email;
        const name = nullableStr(params, "name");
        if (name !== undefined) c.name = name;
        const description = nullableStr(params, "description");
        if (description !== undefined) c.description = description;
        const phone = nullableStr(params, "phone");
        if (phone !== undefined) c.phone = phone;
        const address = readAddress(params, "address");
        if (address !== undefined) c.address = address;
        if (defaultPm !== undefined) c.invoice_settings.default_payment_method = defaultPm;
        c.metadata = mergeMetadata(c.metadata, params);
      },
      ctx,
    );
  });
  route("DELETE", "/v1/customers/:id", ({ ctx }, id) => {
    engine.deleteCustomer(engine.requireCustomer(id), ctx, false);
    return { id, object: "customer", deleted: true };
  });
  route("GET", "/v1/customers", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "email", "test_clock"]);
    const email = str(params, "email");
    const clock = str(params, "test_clock");
    return listOf(
      Object.values(s().customers).filter((c) => (!email || c.email === email) && (!clock || c.test_clock === clock)),
      params,
      "/v1/customers",
    );
  });
  const listPaymentMethods = (customerId: string, params: Params) =>
    listOf(
      Object.values(s().paymentMethods).filter((pm) => pm.customer === customerId),
      params,
      `/v1/customers/${customerId}/payment_methods`,
    );
  route("GET", "/v1/customers/:id/payment_methods", ({ params }, id) => {
    allowOnly(params, [...LIST_PARAMS, "type", "allow_redisplay"]);
    engine.requireCustomer(id);
    return listPaymentMethods(id, params);
  });

  // Payment methods
  route("GET", "/v1/payment_methods/:id", (_req, id) => engine.resolvePaymentMethod(id, "id"));
  route("POST", "/v1/payment_methods/:id/attach", ({ params, ctx }, id) => {
    allowOnly(params, ["customer"]);
    const customer = engine.requireCustomer(requireStr(params, "customer"), "customer");
    return engine.attachPaymentMethod(id, customer, ctx, "id");
  });
  route("POST", "/v1/payment_methods/:id/detach", ({ ctx }, id) => {
    const pm = s().paymentMethods[id] ?? throwMissing("PaymentMethod", id);
    if (!pm.customer) throw invalidRequest("The payment method you provided is not attached to a customer so detachment is impossible.");
    pm.customer = null;
    engine.emit("payment_method.detached", pm, ctx, realNow());
    return pm;
  });
  route("GET", "/v1/payment_methods", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "type"]);
    const customer = requireStr(params, "customer");
    return listPaymentMethods(customer, params);
  });
}

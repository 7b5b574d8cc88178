// The contract: every object the sandbox sends (API responses, list envelopes, expanded fields, events and their
// webhook payloads) matches the pinned `stripe` package's types: each required field present, no field the types do
// not declare, values of the declared kinds. The fields are read from node_modules/stripe's .d.ts at test time, so
// upgrading `stripe` re-checks the sandbox against the new API version.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_SECRET_KEY } from "../../../lib/local-services";
import { DROPPED_BY_PINNED_API } from "./dropped-fields";
import { type Harness, completeCheckout, seedCatalog, startHarness } from "./harness";
import { DELETED_TYPE_OF_OBJECT, type Problem, type StripeTypes, TYPE_OF_OBJECT, loadStripeTypes } from "./stripe-types";

let h: Harness;
let types: StripeTypes;
const seen: Array<{ source: string; body: unknown }> = [];

async function call(method: string, path: string, form: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const body = new URLSearchParams(form).toString();
  const response = await fetch(`${h.sandbox.url}${path}${method === "GET" && body ? `?${body}` : ""}`, {
    method,
    headers: { authorization: `Bearer ${SANDBOX_SECRET_KEY}`, "content-type": "application/x-www-form-urlencoded" },
    body: method === "GET" ? undefined : body,
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${JSON.stringify(json)}`);
  seen.push({ source: `${method} ${path}`, body: json });
  return json;
}
const id = (value: unknown): string => (typeof value === "string" ? value : String((value as { id: string }).id));

beforeAll(async () => {
  types = loadStripeTypes();
  h = await startHarness();
  const catalog = await seedCatalog(h.stripe);
  await call("GET", `/v1/products/${catalog.basicProduct.id}`);
  await call("GET", `/v1/prices/${catalog.basic.id}`, { "expand[]": "product" });
  await call("POST", "/v1/products", { name: "With price", "default_price_data[currency]": "usd", "default_price_data[unit_amount]": "500", "default_price_data[recurring][interval]": "year" });
  await call("GET", "/v1/prices", { limit: "100", "expand[]": "data.product" });
  const meter = await call("POST", "/v1/billing/meters", { display_name: "Tokens", event_name: "contract_tokens", "default_aggregation[formula]": "sum" });
  await call("GET", `/v1/billing/meters/${id(meter.id)}`);
  await call("GET", "/v1/billing/meters");
  const metered = await call("POST", "/v1/prices", {
    product: catalog.basicProduct.id,
    currency: "usd",
    unit_amount: "1",
    "transform_quantity[divide_by]": "1000",
    "transform_quantity[round]": "up",
    "recurring[interval]": "month",
    "recurring[usage_type]": "metered",
    "recurring[meter]": id(meter.id),
  });

  const config = await call("POST", "/v1/billing_portal/configurations", {
    "features[invoice_history][enabled]": "true",
    "features[subscription_cancel][enabled]": "true",
    "features[subscription_cancel][mode]": "at_period_end",
    "features[subscription_update][enabled]": "true",
    "features[subscription_update][default_allowed_updates][0]": "price",
    "features[subscription_update][products][0][product]": catalog.basicProduct.id,
    "features[subscription_update][products][0][prices][0]": catalog.basic.id,
    "business_profile[headline]": "Contract",
  });
  const customer = await call("POST", "/v1/customers", { email: "contract@example.com", name: "Ada", "address[country]": "US", "metadata[k]": "v" });
  const session = await call("POST", "/v1/checkout/sessions", {
    mode: "subscription",
    customer: id(customer.id),
    "line_items[0][price]": catalog.basic.id,
    "line_items[0][quantity]": "1",
    success_url: "https://app.test/ok",
    cancel_url: "https://app.test/no",
    "customer_update[address]": "auto",
    "customer_update[name]": "auto",
    billing_address_collection: "required",
  });
  await call("GET", `/v1/checkout/sessions/${id(session.id)}/line_items`);
  await completeCheckout(h.sandbox, id(session.id));
  const done = await call("GET", `/v1/checkout/sessions/${id(session.id)}`, { "expand[]": "line_items" });
  const sub = await call("GET", `/v1/subscriptions/${id(done.subscription)}`, { "expand[0]": "customer", "expand[1]": "latest_invoice", "expand[2]": "default_payment_method", "expand[3]": "items.data.price.product" });
  const invoiceId = id(sub.latest_invoice);
  await call("GET", `/v1/invoices/${invoiceId}`);
  await call("GET", `/v1/invoices/${invoiceId}/lines`);
  await call("GET", "/v1/invoices", { customer: id(customer.id) });
  const payments = await call("GET", "/v1/invoice_payments", { invoice: invoiceId });
  const chargeId = String((payments.data as Array<{ payment: { charge: string } }>)[0]?.payment.charge);
  await call("GET", `/v1/invoice_payments/${id((payments.data as Array<{ id: string }>)[0]?.id)}`);
  await call("GET", `/v1/charges/${chargeId}`);
  const refund = await call("POST", "/v1/refunds", { charge: chargeId, amount: "100", reason: "requested_by_customer", "metadata[why]": "contract" });
  await call("GET", `/v1/refunds/${id(refund.id)}`, { "expand[]": "charge" });
  await call("GET", "/v1/refunds", { charge: chargeId });
  await call("POST", `/v1/subscriptions/${id(sub.id)}`, { "items[0][id]": String((sub.items as { data: Array<{ id: string }> }).data[0]?.id), "items[0][price]": catalog.pro.id, proration_behavior: "create_prorations" });
  await call("POST", `/v1/subscriptions/${id(sub.id)}`, { cancel_at_period_end: "true", "cancellation_details[comment]": "contract" });
  await call("POST", "/v1/billing_portal/sessions", { customer: id(customer.id), configuration: id(config.id), return_url: "https://app.test" });
  const clock = await call("GET", `/v1/test_helpers/test_clocks/${id((customer as { test_clock: unknown }).test_clock)}`);
  await call("POST", `/v1/test_helpers/test_clocks/${id(clock.id)}/advance`, { frozen_time: String(Number(clock.frozen_time) + 40 * 86_400) });
  // A one-time payment: a payment-mode Checkout, its PaymentIntent and charge, and a refund by payment_intent.
  const oneTime = await call("POST", "/v1/prices", { product: catalog.basicProduct.id, currency: "usd", unit_amount: "500", lookup_key: "contract_pack" });
  const paying = await call("POST", "/v1/checkout/sessions", {
    mode: "payment",
    customer: id(customer.id),
    "line_items[0][price]": id(oneTime.id),
    "line_items[0][quantity]": "1",
    "payment_intent_data[metadata][packId]": "contract",
    "metadata[packId]": "contract",
    success_url: "https://app.test/ok",
  });
  await completeCheckout(h.sandbox, id(paying.id));
  const paid = await call("GET", `/v1/checkout/sessions/${id(paying.id)}`, { "expand[]": "payment_intent" });
  const intent = await call("GET", `/v1/payment_intents/${id(paid.payment_intent)}`, { "expand[]": "latest_charge" });
  await call("GET", "/v1/payment_intents", { customer: id(customer.id) });
  await call("GET", "/v1/charges", { payment_intent: id(intent.id) });
  await call("POST", "/v1/refunds", { payment_intent: id(intent.id) });
  await call("GET", "/v1/refunds", { payment_intent: id(intent.id) });
  await call("GET", "/v1/checkout/sessions", { payment_intent: id(intent.id) });
  // A trial: trialing, its $0 invoice, the trial_will_end notice and the conversion.
  const trialCustomer = await call("POST", "/v1/customers", { email: "trial-contract@example.com" });
  const trial = await call("POST", "/v1/subscriptions", { customer: id(trialCustomer.id), "items[0][price]": catalog.basic.id, trial_period_days: "7", default_payment_method: "pm_card_visa" });
  await call("GET", `/v1/subscriptions/${id(trial.id)}`, { "expand[]": "latest_invoice" });
  const trialClock = await call("GET", `/v1/test_helpers/test_clocks/${id((trialCustomer as { test_clock: unknown }).test_clock)}`);
  await call("POST", `/v1/test_helpers/test_clocks/${id(trialClock.id)}/advance`, { frozen_time: String(Number(trialClock.frozen_time) + 10 * 86_400) });
  await h.sandbox.idle();
  await call("GET", `/v1/subscriptions/${id(sub.id)}`);
  await call("GET", "/v1/subscriptions", { status: "all", "expand[]": "data.latest_invoice" });
  await call("GET", `/v1/customers/${id(customer.id)}/payment_methods`);

  // A portal downgrade at the period end: a subscription schedule, read, listed, expanded and released.
  await call("POST", `/v1/billing_portal/configurations/${id(config.id)}`, {
    "features[subscription_update][products][0][product]": catalog.basicProduct.id,
    "features[subscription_update][products][0][prices][0]": catalog.basic.id,
    "features[subscription_update][products][1][product]": catalog.proProduct.id,
    "features[subscription_update][products][1][prices][0]": catalog.pro.id,
    "features[subscription_update][schedule_at_period_end][conditions][0][type]": "decreasing_item_amount",
  });
  const downgrader = await call("POST", "/v1/customers", { email: "downgrade@example.com" });
  const proSub = await call("POST", "/v1/subscriptions", { customer: id(downgrader.id), "items[0][price]": catalog.pro.id, default_payment_method: "pm_card_visa" });
  const downgradePortal = await call("POST", "/v1/billing_portal/sessions", { customer: id(downgrader.id), configuration: id(config.id) });
  const switched = await fetch(`${String(downgradePortal.url)}/switch`, { method: "POST", body: new URLSearchParams({ price: catalog.basic.id, confirm: "1" }), redirect: "manual" });
  if (switched.status !== 303) throw new Error(`portal switch answered ${switched.status}`);
  const scheduled = await call("GET", `/v1/subscriptions/${id(proSub.id)}`, { "expand[]": "schedule" });
  const scheduleId = id(scheduled.schedule);
  await call("GET", `/v1/subscription_schedules/${scheduleId}`, { "expand[0]": "phases.items.price", "expand[1]": "subscription" });
  await call("GET", "/v1/subscription_schedules", { customer: id(downgrader.id) });
  await call("POST", `/v1/subscription_schedules/${scheduleId}/release`);

  // A declined first payment: an incomplete subscription and an open invoice.
  const declined = await call("POST", "/v1/customers", { email: "declined@example.com" });
  await call("POST", "/v1/subscriptions", { customer: id(declined.id), "items[0][price]": catalog.basic.id, default_payment_method: "pm_card_chargeCustomerFail", "expand[]": "latest_invoice" });
  const expiring = await call("POST", "/v1/checkout/sessions", { mode: "subscription", customer_email: "walkaway@example.com", "line_items[0][price]": catalog.basic.id, success_url: "https://app.test/ok" });
  await call("POST", `/v1/checkout/sessions/${id(expiring.id)}/expire`);

  const endpoint = await call("POST", "/v1/webhook_endpoints", { url: "http://127.0.0.1:1/hook", "enabled_events[]": "customer.created", description: "contract" });
  await call("GET", "/v1/webhook_endpoints");
  await call("DELETE", `/v1/webhook_endpoints/${id(endpoint.id)}`);
  const gone = await call("POST", "/v1/customers", { email: "gone@example.com" });
  await call("DELETE", `/v1/customers/${id(gone.id)}`);
  const spare = await call("POST", "/v1/products", { name: "Spare" });
  await call("DELETE", `/v1/products/${id(spare.id)}`);
  const spareClock = await call("POST", "/v1/test_helpers/test_clocks", { frozen_time: "1800000000", name: "spare" });
  await call("DELETE", `/v1/test_helpers/test_clocks/${id(spareClock.id)}`);
  // Coupons, promotion codes and the discount they become; automatic tax and its rate.
  const coupon = await call("POST", "/v1/coupons", { percent_off: "20", duration: "repeating", duration_in_months: "3", name: "Contract 20", "metadata[k]": "v" });
  await call("POST", "/v1/coupons", { id: "CONTRACT5", amount_off: "500", currency: "usd", duration: "forever", max_redemptions: "10" });
  const promo = await call("POST", "/v1/promotion_codes", { "promotion[type]": "coupon", "promotion[coupon]": id(coupon.id), code: "CONTRACT20", "restrictions[minimum_amount]": "100", "restrictions[minimum_amount_currency]": "usd" });
  await call("GET", `/v1/promotion_codes/${id(promo.id)}`, { "expand[]": "promotion.coupon" });
  await call("GET", "/v1/promotion_codes", { code: "contract20" });
  await call("GET", "/v1/coupons");
  const taxed = await call("POST", "/v1/customers", { email: "taxed@example.com" });
  const discounted = await call("POST", "/v1/checkout/sessions", {
    mode: "subscription",
    customer: id(taxed.id),
    "line_items[0][price]": catalog.basic.id,
    success_url: "https://app.test/ok",
    billing_address_collection: "required",
    "automatic_tax[enabled]": "true",
    "discounts[0][promotion_code]": id(promo.id),
  });
  await call("GET", `/v1/checkout/sessions/${id(discounted.id)}`, { "expand[0]": "discounts.coupon", "expand[1]": "discounts.promotion_code" });
  await completeCheckout(h.sandbox, id(discounted.id));
  const paidSession = await call("GET", `/v1/checkout/sessions/${id(discounted.id)}`, { "expand[]": "line_items" });
  const discountedSub = await call("GET", `/v1/subscriptions/${id(paidSession.subscription)}`, { "expand[0]": "discounts", "expand[1]": "latest_invoice.discounts" });
  const discountedInvoice = id(discountedSub.latest_invoice);
  await call("GET", `/v1/invoices/${discountedInvoice}`, { "expand[0]": "total_discount_amounts.discount", "expand[1]": "lines.data.discount_amounts.discount" });
  await call("GET", `/v1/invoices/${discountedInvoice}/lines`);
  await call("GET", "/v1/tax_rates/txr_sandboxAutomaticTax");
  // A once discount used up by the first invoice leaves at the renewal (customer.discount.deleted).
  const onceCoupon = await call("POST", "/v1/coupons", { percent_off: "10", duration: "once" });
  const onceCustomer = await call("POST", "/v1/customers", { email: "once@example.com", payment_method: "pm_card_visa", "invoice_settings[default_payment_method]": "pm_card_visa" });
  const onceSub = await call("POST", "/v1/subscriptions", { customer: id(onceCustomer.id), "items[0][price]": catalog.basic.id, "discounts[0][coupon]": id(onceCoupon.id) });
  const onceClock = id((onceCustomer as { test_clock: unknown }).test_clock);
  await call("POST", `/v1/test_helpers/test_clocks/${onceClock}/advance`, { frozen_time: String(Number((onceSub.items as { data: Array<{ current_period_end: number }> }).data[0]?.current_period_end) + 60) });
  // A metered item beside the licensed one: usage reported, billed on the renewal invoice.
  const meteredCustomer = await call("POST", "/v1/customers", { email: "metered@example.com", payment_method: "pm_card_visa", "invoice_settings[default_payment_method]": "pm_card_visa" });
  const meteredSub = await call("POST", "/v1/subscriptions", { customer: id(meteredCustomer.id), "items[0][price]": catalog.basic.id, "items[1][price]": id(metered.id) });
  await call("POST", "/v1/billing/meter_events", { event_name: "contract_tokens", "payload[stripe_customer_id]": id(meteredCustomer.id), "payload[value]": "2500", identifier: "contract_1" });
  await call("GET", `/v1/billing/meters/${id(meter.id)}/event_summaries`, { customer: id(meteredCustomer.id), start_time: "0", end_time: "4102444800" });
  const meteredClock = id((meteredCustomer as { test_clock: unknown }).test_clock);
  await call("POST", `/v1/test_helpers/test_clocks/${meteredClock}/advance`, { frozen_time: String(Number((meteredSub.items as { data: Array<{ current_period_end: number }> }).data[0]?.current_period_end) + 60) });
  await call("GET", `/v1/subscriptions/${id(meteredSub.id)}`, { "expand[]": "latest_invoice" });
  const spareCoupon = await call("POST", "/v1/coupons", { percent_off: "5" });
  await call("DELETE", `/v1/coupons/${id(spareCoupon.id)}`);
  await call("GET", "/v1/billing_portal/configurations");
  await call("GET", "/v1/customers", { limit: "100" });
  await call("GET", "/v1/checkout/sessions", { limit: "100" });
  await call("GET", "/v1/test_helpers/test_clocks");
  await h.sandbox.idle();
  // Every event the run produced, as listed by the API and as delivered to the webhook receiver.
  let cursor: string | undefined;
  do {
    const page = await call("GET", "/v1/events", { limit: "100", ...(cursor ? { starting_after: cursor } : {}) });
    const data = page.data as Array<{ id: string }>;
    cursor = page.has_more ? data.at(-1)?.id : undefined;
  } while (cursor);
  for (const delivery of h.deliveries) seen.push({ source: `webhook ${delivery.event.type}`, body: JSON.parse(delivery.rawBody) });
}, 120_000);
afterAll(() => h?.close());

/** Checks one body: a list's envelope and items, or one object by its `object` (and `deleted`). */
function problemsOf(body: unknown, at: string): Problem[] {
  const value = body as Record<string, unknown>;
  if (value.object === "list") {
    const envelope = Object.keys(value).sort();
    const out: Problem[] = envelope.join() === "data,has_more,object,url" ? [] : [{ path: at, problem: `list envelope has ${envelope.join(", ")}` }];
    (value.data as unknown[]).forEach((item, i) => out.push(...problemsOf(item, `${at}.data[${i}]`)));
    return out;
  }
  const object = String(value.object);
  const typeName = value.deleted === true ? DELETED_TYPE_OF_OBJECT[object] : TYPE_OF_OBJECT[object];
  if (!typeName) return [{ path: at, problem: `no type known for object "${object}"` }];
  return types.check(value, typeName, at);
}

describe("contract with the pinned stripe types", () => {
  it("covers every kind of object the sandbox serves", () => {
    const kinds = new Set<string>();
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (typeof value !== "object" || value === null) return;
      const record = value as Record<string, unknown>;
      if (typeof record.object === "string") kinds.add(record.deleted === true ? `deleted ${record.object}` : record.object);
      Object.values(record).forEach(visit);
    };
    seen.forEach(({ body }) => visit(body));
    const expected = [
      ...Object.keys(TYPE_OF_OBJECT),
      ...Object.keys(DELETED_TYPE_OF_OBJECT).map((o) => `deleted ${o}`),
      "list",
    ];
    expect([...kinds].sort()).toEqual(expect.arrayContaining(expected.sort()));
    expect(seen.length).toBeGreaterThan(50);
  });

  it("sends only fields the types declare, and every field they require", () => {
    // One line per distinct problem (indices folded), with where it was first seen.
    const problems = new Map<string, string>();
    for (const { source, body } of seen) {
      for (const { path, problem } of problemsOf(body, String((body as { object?: unknown }).object))) {
        const key = `${path.replace(/\[\d+\]/g, "[]")}: ${problem}`;
        if (!problems.has(key)) problems.set(key, source);
      }
    }
    expect([...problems].map(([problem, source]) => `${problem} (first in ${source})`)).toEqual([]);
  });

  it("knows the fields it checks: the fixture fields it skips are really gone from the pinned API", () => {
    const invoice = types.fields("Invoice");
    expect(invoice.required).toEqual(expect.arrayContaining(["id", "object", "customer", "lines", "parent", "status"]));
    for (const [object, dropped] of Object.entries(DROPPED_BY_PINNED_API)) {
      const typeName = TYPE_OF_OBJECT[object] ?? "";
      const declared = types.fields(typeName);
      expect({ object, still: dropped.filter((field) => [...declared.required, ...declared.optional].includes(field)) }).toEqual({ object, still: [] });
    }
  });
});

// Usage-based billing through the official client: billing meters, meter events (identifier unique over 24 h,
// Stripe's validation), metered prices beside a licensed one on a subscription, and the renewal invoice that bills
// the period's aggregated usage in arrears.
import fs from "node:fs";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, type Harness, completeCheckout, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;
let meter: Stripe.Billing.Meter;
/** $0.01 per started 1,000 tokens: `transform_quantity` bills blocks of 1,000, rounded up. */
let overage: Stripe.Price;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
  meter = await h.stripe.billing.meters.create({
    display_name: "Tokens over budget",
    event_name: "tokens_over_budget",
    default_aggregation: { formula: "sum" },
    customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
    value_settings: { event_payload_key: "value" },
  });
  overage = await h.stripe.prices.create({
    product: catalog.basicProduct.id,
    currency: "usd",
    unit_amount: 1,
    transform_quantity: { divide_by: 1000, round: "up" },
    recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    lookup_key: "basic_overage",
  });
});
afterAll(() => h.close());

/** Top-level fields of Stripe's own fixture for the resource that the object lacks (fixture-fields.json). */
function missingFixtureFields(resource: string, object: object): string[] {
  const fixtures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "fixture-fields.json"), "utf8")) as Record<string, { fields: string[] }>;
  return (fixtures[resource]?.fields ?? ["<no fixture>"]).filter((key) => !(key in object));
}

const failure = (promise: Promise<unknown>) => promise.then(() => null, (error: Stripe.errors.StripeError) => error);

async function subscriber(email: string) {
  const customer = await h.stripe.customers.create({ email, payment_method: "pm_card_visa", invoice_settings: { default_payment_method: "pm_card_visa" } });
  const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }, { price: overage.id }] });
  return { customer, sub };
}

const report = (customer: string, value: number, identifier?: string, timestamp?: number) =>
  h.stripe.billing.meterEvents.create({ event_name: "tokens_over_budget", payload: { stripe_customer_id: customer, value: String(value) }, identifier, timestamp });

describe("meters", () => {
  it("creates, retrieves and lists a meter in Stripe's shape", async () => {
    expect(meter).toMatchObject({
      object: "billing.meter",
      status: "active",
      event_name: "tokens_over_budget",
      default_aggregation: { formula: "sum" },
      customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
      value_settings: { event_payload_key: "value" },
      event_time_window: null,
    });
    expect(meter.id).toMatch(/^mtr_test_/);
    expect(missingFixtureFields("billing.meter", meter)).toEqual([]);
    expect(await h.stripe.billing.meters.retrieve(meter.id)).toEqual(meter);
    const listed = await h.stripe.billing.meters.list({ status: "active" });
    expect(listed.data.map((m) => m.id)).toContain(meter.id);
  });

  it("refuses a second active meter for the same event name, a bad formula and a missing aggregation", async () => {
    const base = { display_name: "Again", event_name: "tokens_over_budget", default_aggregation: { formula: "sum" as const } };
    expect(await failure(h.stripe.billing.meters.create(base))).toMatchObject({ statusCode: 400, param: "event_name" });
    expect(await failure(h.stripe.billing.meters.create({ ...base, event_name: "x", default_aggregation: { formula: "avg" } }))).toMatchObject({
      statusCode: 400,
      param: "default_aggregation[formula]",
    });
    const missing = await failure(h.stripe.billing.meters.create({ display_name: "No agg", event_name: "y" } as Stripe.Billing.MeterCreateParams));
    expect(missing).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "default_aggregation" });
    expect(await failure(h.stripe.billing.meters.retrieve("mtr_missing"))).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("makes metered prices only against an existing meter", async () => {
    expect(overage.recurring).toMatchObject({ usage_type: "metered", meter: meter.id });
    expect(overage.transform_quantity).toEqual({ divide_by: 1000, round: "up" });
    const noMeter = await failure(h.stripe.prices.create({ product: catalog.basicProduct.id, currency: "usd", unit_amount: 1, recurring: { interval: "month", usage_type: "metered" } }));
    expect(noMeter).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "recurring[meter]" });
    const unknown = await failure(h.stripe.prices.create({ product: catalog.basicProduct.id, currency: "usd", unit_amount: 1, recurring: { interval: "month", usage_type: "metered", meter: "mtr_nope" } }));
    expect(unknown).toMatchObject({ statusCode: 404, param: "recurring[meter]" });
    const licensedWithMeter = await failure(h.stripe.prices.create({ product: catalog.basicProduct.id, currency: "usd", unit_amount: 1, recurring: { interval: "month", meter: meter.id } }));
    expect(licensedWithMeter).toMatchObject({ statusCode: 400, param: "recurring[meter]" });
  });
});

describe("meter events", () => {
  it("accepts an event in Stripe's shape and refuses its identifier again within 24 hours", async () => {
    const { customer } = await subscriber("events@example.com");
    const event = await report(customer.id, 1500, "req_retry_1");
    expect(event).toMatchObject({ object: "billing.meter_event", event_name: "tokens_over_budget", identifier: "req_retry_1", payload: { stripe_customer_id: customer.id, value: "1500" } });
    expect(missingFixtureFields("billing.meter_event", event)).toEqual([]);
    const again = await failure(report(customer.id, 1500, "req_retry_1"));
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again).toMatchObject({ statusCode: 400, code: "resource_already_exists", param: "identifier" });
    const generated = await report(customer.id, 1);
    expect(generated.identifier).toMatch(/^mevt_/);
  });

  it("refuses what Stripe's meter error reports name: no meter, no customer, unknown customer, a non-numeric value, a bad timestamp", async () => {
    const { customer } = await subscriber("invalid@example.com");
    const cases: Array<[Promise<unknown>, string, string]> = [
      [h.stripe.billing.meterEvents.create({ event_name: "nope", payload: { stripe_customer_id: customer.id, value: "1" } }), "no_meter", "event_name"],
      [h.stripe.billing.meterEvents.create({ event_name: "tokens_over_budget", payload: { value: "1" } }), "meter_event_no_customer_defined", "payload[stripe_customer_id]"],
      [report("cus_nobody", 1), "meter_event_customer_not_found", "payload[stripe_customer_id]"],
      [h.stripe.billing.meterEvents.create({ event_name: "tokens_over_budget", payload: { stripe_customer_id: customer.id, value: "ten" } }), "meter_event_invalid_value", "payload[value]"],
      [h.stripe.billing.meterEvents.create({ event_name: "tokens_over_budget", payload: { stripe_customer_id: customer.id } }), "meter_event_invalid_value", "payload[value]"],
      [report(customer.id, 1, undefined, Math.floor(Date.now() / 1000) - 36 * DAY), "timestamp_too_far_in_past", "timestamp"],
      [report(customer.id, 1, undefined, Math.floor(Date.now() / 1000) + 600), "timestamp_in_future", "timestamp"],
    ];
    for (const [call, code, param] of cases) expect(await failure(call)).toMatchObject({ statusCode: 400, code, param });
    const missingName = await failure(h.stripe.billing.meterEvents.create({ event_name: "", payload: { stripe_customer_id: customer.id, value: "1" } }));
    expect(missingName).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "event_name" });
  });
});

describe("metered items on a subscription", () => {
  it("takes the metered item without a quantity and refuses one with a quantity", async () => {
    const { sub } = await subscriber("items@example.com");
    expect(sub.items.data.map((i) => [i.price.id, i.quantity])).toEqual([
      [catalog.basic.id, 1],
      [overage.id, undefined],
    ]);
    expect(sub.items.data[1]?.plan.usage_type).toBe("metered");
    const withQuantity = await failure(h.stripe.subscriptions.create({ customer: String(sub.customer), items: [{ price: catalog.basic.id }, { price: overage.id, quantity: 1 }] }));
    expect(withQuantity).toMatchObject({ statusCode: 400, param: "items[1][quantity]" });
    const invoice = await h.stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(invoice.total).toBe(1000);
  });

  it("bills the period's usage on the renewal invoice: a retried identifier counts once, total = plan + overage exactly", async () => {
    const { customer, sub } = await subscriber("renewal@example.com");
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await report(customer.id, 120_000, "req_a");
    for (let attempt = 0; attempt < 3; attempt++) {
      const retried = await report(customer.id, 30_500, "req_b").catch((error: Stripe.errors.StripeError) => error);
      if (attempt > 0) expect(retried).toMatchObject({ code: "resource_already_exists" });
    }
    const start = sub.items.data[0]?.current_period_start ?? 0;
    const summaries = await h.stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: start, end_time: periodEnd });
    expect(summaries.data).toEqual([expect.objectContaining({ object: "billing.meter_event_summary", aggregated_value: 150_500, meter: meter.id, start_time: start, end_time: periodEnd })]);
    await h.sandbox.idle();
    await h.stripe.testHelpers.testClocks.advance(String(customer.test_clock), { frozen_time: periodEnd + 60 });

    const [renewal] = (await h.stripe.invoices.list({ subscription: sub.id, limit: 1 })).data;
    expect(renewal?.billing_reason).toBe("subscription_cycle");
    const usageLine = renewal?.lines.data.find((l) => l.pricing?.price_details?.price === overage.id);
    // 150,500 tokens -> 151 blocks of 1,000 (rounded up) at $0.01 = $1.51, for the period that just ended.
    expect(usageLine).toMatchObject({ amount: 151, quantity: 150_500, period: { start: sub.items.data[0]?.current_period_start, end: periodEnd } });
    expect(renewal?.total).toBe(1000 + 151);
    expect(renewal?.status).toBe("paid");
    const renewed = await h.stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[1]?.current_period_start).toBe(periodEnd);
    expect(renewed.items.data[1]?.current_period_end).toBe(renewed.items.data[0]?.current_period_end);
  });

  it("bills nothing extra for a period without usage, and usage after the period end goes to the next invoice", async () => {
    const { customer, sub } = await subscriber("quiet@example.com");
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await h.stripe.testHelpers.testClocks.advance(String(customer.test_clock), { frozen_time: periodEnd + 60 });
    await report(customer.id, 2000, "req_next_period");
    const [renewal] = (await h.stripe.invoices.list({ subscription: sub.id, limit: 1 })).data;
    expect(renewal?.total).toBe(1000);
    const renewed = await h.stripe.subscriptions.retrieve(sub.id);
    await h.stripe.testHelpers.testClocks.advance(String(customer.test_clock), { frozen_time: (renewed.items.data[0]?.current_period_end ?? 0) + 60 });
    const [next] = (await h.stripe.invoices.list({ subscription: sub.id, limit: 1 })).data;
    expect(next?.total).toBe(1000 + 2);
  });

  it("cancelled with invoice_now and prorate, bills the usage so far less the unused time on a final invoice, charged at once", async () => {
    const { customer, sub } = await subscriber("final-invoice@example.com");
    const first = String(sub.latest_invoice);
    const { current_period_start: start = 0, current_period_end: end = 0 } = sub.items.data[0] ?? {};
    const tenDaysIn = start + 10 * 86_400;
    await h.stripe.testHelpers.testClocks.advance(String(customer.test_clock), { frozen_time: tenDaysIn });
    await report(customer.id, 1_000_000, "req_final");
    await h.sandbox.idle();
    h.deliveries.length = 0;
    const canceled = await h.stripe.subscriptions.cancel(sub.id, { invoice_now: true, prorate: true });
    expect(canceled).toMatchObject({ status: "canceled", ended_at: tenDaysIn });
    const final = await h.stripe.invoices.retrieve(String(canceled.latest_invoice));
    expect(final.id).not.toBe(first);
    const usage = final.lines.data.find((line) => line.pricing?.price_details?.price === overage.id);
    const credit = final.lines.data.find((line) => line.pricing?.price_details?.price === catalog.basic.id);
    // 1,000,000 tokens -> 1,000 blocks at $0.01; the plan's $10 credited for the 20 days of 30 left.
    expect(usage).toMatchObject({ amount: 1000, quantity: 1_000_000, period: { start, end: tenDaysIn } });
    const unused = Math.round((1000 * (end - tenDaysIn)) / (end - start));
    expect(credit).toMatchObject({ amount: -unused, period: { start: tenDaysIn, end } });
    expect(final).toMatchObject({ total: 1000 - unused, amount_paid: 1000 - unused, status: "paid", customer: customer.id });
    await h.sandbox.idle();
    expect(h.types()).toEqual(["customer.subscription.deleted", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]);
  });

  it("cancelled at the period end, bills the last period's usage on a final invoice and renews nothing", async () => {
    const { customer, sub } = await subscriber("final-at-period-end@example.com");
    const { current_period_start: start = 0, current_period_end: end = 0 } = sub.items.data[0] ?? {};
    await h.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    await report(customer.id, 2_500, "req_last_period");
    await h.stripe.testHelpers.testClocks.advance(String(customer.test_clock), { frozen_time: end + 60 });
    const ended = await h.stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: "canceled", ended_at: end });
    const invoices = (await h.stripe.invoices.list({ subscription: sub.id })).data;
    expect(invoices).toHaveLength(2);
    const final = await h.stripe.invoices.retrieve(String(ended.latest_invoice));
    // 2,500 tokens -> 3 blocks of 1,000 at $0.01; nothing unused to credit at the period end.
    expect(final.lines.data.map((line) => [line.amount, line.quantity, line.period])).toEqual([[3, 2_500, { start, end }]]);
    expect(final).toMatchObject({ total: 3, status: "paid" });
  });

  it("cancelled without both invoice_now and prorate, discards the usage and bills nothing, as Stripe does", async () => {
    for (const params of [{}, { invoice_now: true }, { prorate: true }]) {
      const { customer, sub } = await subscriber(`no-final-${Object.keys(params).join("-")}@example.com`);
      await report(customer.id, 5_000);
      const canceled = await h.stripe.subscriptions.cancel(sub.id, params);
      expect({ params, status: canceled.status, latest: canceled.latest_invoice }).toEqual({ params, status: "canceled", latest: sub.latest_invoice });
      expect((await h.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    }
  });

  it("Checkout takes the metered price as a second line without a quantity and creates both items", async () => {
    const customer = await h.stripe.customers.create({ email: "checkout-metered@example.com" });
    const lines = { mode: "subscription" as const, customer: customer.id, success_url: "https://app.test/ok", cancel_url: "https://app.test/no" };
    const refused = await failure(h.stripe.checkout.sessions.create({ ...lines, line_items: [{ price: catalog.basic.id, quantity: 1 }, { price: overage.id, quantity: 1 }] }));
    expect(refused).toMatchObject({ statusCode: 400, param: "line_items[1][quantity]" });
    const session = await h.stripe.checkout.sessions.create({ ...lines, line_items: [{ price: catalog.basic.id, quantity: 1 }, { price: overage.id }] });
    expect(session.amount_total).toBe(1000);
    const done = await completeCheckout(h.sandbox, session.id, { email: "checkout-metered@example.com", name: "Ada", address: { line1: "1 Way", city: "London", postal_code: "N1", country: "GB" } });
    expect(done.status).toBe(200);
    const sub = await h.stripe.subscriptions.retrieve(String((await h.stripe.checkout.sessions.retrieve(session.id)).subscription));
    expect(sub.items.data.map((i) => i.price.id)).toEqual([catalog.basic.id, overage.id]);
  });
});

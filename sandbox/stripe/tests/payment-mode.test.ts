// Checkout in `payment` mode: a one-time price paid through the hosted page by a PaymentIntent and its charge, with
// Stripe's events; refunds by payment_intent; declined cards; and each mode refusing the other's params.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, completeCheckout, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;
let oneTime: Stripe.Price;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
  oneTime = await h.stripe.prices.create({ product: catalog.basicProduct.id, currency: "usd", unit_amount: 500, lookup_key: "pack_small" });
});
afterAll(() => h.close());

async function paymentSession(email: string) {
  const customer = await h.stripe.customers.create({ email });
  const session = await h.stripe.checkout.sessions.create({
    mode: "payment",
    customer: customer.id,
    line_items: [{ price: oneTime.id, quantity: 1 }],
    payment_intent_data: { metadata: { packId: "small" } },
    metadata: { packId: "small" },
    success_url: "https://app.test/ok?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "https://app.test/no",
  });
  return { customer, session };
}

const errorOf = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error);

describe("payment-mode Checkout", () => {
  it("pays a one-time price: a succeeded PaymentIntent, its charge, and Stripe's events in order", async () => {
    const { customer, session } = await paymentSession("pay@example.com");
    expect(session).toMatchObject({ mode: "payment", payment_status: "unpaid", payment_intent: null, amount_total: 500, subscription: null });
    await h.sandbox.idle();
    h.deliveries.length = 0;
    expect((await completeCheckout(h.sandbox, session.id)).status).toBe(200);
    const paid = await h.stripe.checkout.sessions.retrieve(session.id);
    expect(paid).toMatchObject({ status: "complete", payment_status: "paid", subscription: null, invoice: null, customer: customer.id });
    const intent = await h.stripe.paymentIntents.retrieve(String(paid.payment_intent), { expand: ["latest_charge"] });
    expect(intent).toMatchObject({ status: "succeeded", amount: 500, amount_received: 500, customer: customer.id, metadata: { packId: "small" } });
    const charge = intent.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({ amount: 500, paid: true, status: "succeeded", payment_intent: intent.id, customer: customer.id });
    expect((await h.stripe.charges.list({ payment_intent: intent.id })).data.map((c) => c.id)).toEqual([charge.id]);
    expect((await h.stripe.checkout.sessions.list({ payment_intent: intent.id })).data.map((s) => s.id)).toEqual([session.id]);
    expect((await h.stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toEqual([]);
    await h.sandbox.idle();
    expect(h.types().filter((type) => !type.startsWith("customer."))).toEqual(["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"]);
    const completed = h.deliveries.at(-1)?.event.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ mode: "payment", payment_status: "paid", payment_intent: intent.id });
  });

  it("refunds by payment_intent: refund.created and charge.refunded, once", async () => {
    const { session } = await paymentSession("refund-pi@example.com");
    await completeCheckout(h.sandbox, session.id);
    const intentId = String((await h.stripe.checkout.sessions.retrieve(session.id)).payment_intent);
    await h.sandbox.idle();
    h.deliveries.length = 0;
    const refund = await h.stripe.refunds.create({ payment_intent: intentId });
    expect(refund).toMatchObject({ amount: 500, payment_intent: intentId, status: "succeeded" });
    await h.sandbox.idle();
    expect(h.types()).toEqual(["refund.created", "charge.refunded"]);
    expect(h.deliveries[1]?.event.data.object).toMatchObject({ payment_intent: intentId, refunded: true, amount_refunded: 500 });
    expect((await h.stripe.refunds.list({ payment_intent: intentId })).data.map((r) => r.id)).toEqual([refund.id]);
    expect(await errorOf(h.stripe.refunds.create({ payment_intent: intentId }))).toMatchObject({ code: "charge_already_refunded" });
    expect(await errorOf(h.stripe.refunds.create({ payment_intent: "pi_missing" }))).toMatchObject({ statusCode: 404, param: "payment_intent" });
  });

  it("declines 4000 0000 0000 0002 before anything is created", async () => {
    const { customer, session } = await paymentSession("declined-pay@example.com");
    expect((await completeCheckout(h.sandbox, session.id, { card: "4000000000000002" })).status).toBe(402);
    expect(await h.stripe.checkout.sessions.retrieve(session.id)).toMatchObject({ status: "open", payment_status: "unpaid", payment_intent: null });
    expect((await h.stripe.paymentIntents.list({ customer: customer.id })).data).toEqual([]);
  });

  it("refuses a recurring price in payment mode, a one-time price in subscription mode, and the other mode's params", async () => {
    const base = { success_url: "https://app.test/ok" };
    const cases: Array<[Stripe.Checkout.SessionCreateParams, string, RegExp]> = [
      [{ ...base, mode: "payment", line_items: [{ price: catalog.basic.id, quantity: 1 }] }, "line_items[0][price]", /passed a recurring price/],
      [{ ...base, mode: "subscription", line_items: [{ price: oneTime.id, quantity: 1 }] }, "line_items[0][price]", /at least one recurring price/],
      [{ ...base, mode: "payment", line_items: [{ price: oneTime.id, quantity: 1 }], subscription_data: { metadata: { a: "b" } } }, "subscription_data", /`subscription_data` in `payment` mode/],
      [{ ...base, mode: "subscription", line_items: [{ price: catalog.basic.id, quantity: 1 }], payment_intent_data: { metadata: { a: "b" } } }, "payment_intent_data", /`payment_intent_data` in `subscription` mode/],
      [{ ...base, mode: "setup" }, "mode", /`subscription` and `payment` modes only/],
    ];
    for (const [params, param, message] of cases) {
      const error = await errorOf(h.stripe.checkout.sessions.create(params));
      expect(error, param).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({ param, message: expect.stringMatching(message) });
    }
    const unknown = await errorOf(h.stripe.checkout.sessions.create({ ...base, mode: "payment", line_items: [{ price: oneTime.id, quantity: 1 }], payment_intent_data: { colour: "red" } as never }));
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "payment_intent_data[colour]" });
  });

  it("shows Pay (not Subscribe) on the hosted page", async () => {
    const { session } = await paymentSession("page@example.com");
    const html = await (await fetch(String(session.url))).text();
    expect(html).toMatch(/<button type="submit">Pay<\/button>/);
    expect(html).not.toMatch(/Subscribe/);
  });
});

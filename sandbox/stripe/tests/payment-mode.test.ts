// Checkout in `payment` mode: a one-time price paid through the hosted page by a PaymentIntent and its charge, with
// Stripe's events; refunds by payment_intent; declined cards; the dispute card (0259) and its dispute; each mode
// refusing the other's params; and every object in the shape of Stripe's own fixtures.
import fs from "node:fs";
import path from "node:path";
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

  it("disputes a charge of 4000 0000 0000 0259 after it is paid: charge.dispute.created, no refund, closed as lost", async () => {
    const { customer, session } = await paymentSession("dispute@example.com");
    await h.sandbox.idle();
    h.deliveries.length = 0;
    expect((await completeCheckout(h.sandbox, session.id, { card: "4000 0000 0000 0259" })).status).toBe(200);
    const intentId = String((await h.stripe.checkout.sessions.retrieve(session.id)).payment_intent);
    const charge = (await h.stripe.paymentIntents.retrieve(intentId, { expand: ["latest_charge"] })).latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({ paid: true, status: "succeeded", disputed: true, amount_refunded: 0, customer: customer.id });
    await h.sandbox.idle();
    expect(h.types().filter((type) => !type.startsWith("customer."))).toEqual([
      "charge.succeeded",
      "payment_intent.succeeded",
      "checkout.session.completed",
      "charge.dispute.created",
      "charge.updated",
    ]);
    const [dispute] = (await h.stripe.disputes.list({ payment_intent: intentId })).data;
    expect(dispute).toMatchObject({ object: "dispute", charge: charge.id, payment_intent: intentId, amount: 500, currency: "usd", reason: "fraudulent", status: "needs_response", is_charge_refundable: false });
    expect(h.deliveries.find((d) => d.event.type === "charge.dispute.created")?.event.data.object).toEqual(dispute);
    expect(h.deliveries.find((d) => d.event.type === "charge.updated")?.event.data.previous_attributes).toEqual({ disputed: false });
    expect((await h.stripe.disputes.list({ charge: charge.id })).data.map((d) => d.id)).toEqual([dispute?.id]);
    expect(await h.stripe.disputes.retrieve(String(dispute?.id))).toEqual(dispute);
    // The money went back through the dispute: a refund now is refused, as Stripe refuses it.
    expect(await errorOf(h.stripe.refunds.create({ payment_intent: intentId }))).toMatchObject({ statusCode: 400, code: "charge_disputed" });
    h.deliveries.length = 0;
    expect(await h.stripe.disputes.close(String(dispute?.id))).toMatchObject({ id: dispute?.id, status: "lost" });
    await h.sandbox.idle();
    expect(h.types()).toEqual(["charge.dispute.closed"]);
    expect(h.deliveries[0]?.event.data.previous_attributes).toEqual({ status: "needs_response" });
    expect(await errorOf(h.stripe.disputes.close(String(dispute?.id)))).toMatchObject({ statusCode: 400, message: expect.stringMatching(/already closed/) });
    expect(await errorOf(h.stripe.disputes.retrieve("dp_missing"))).toMatchObject({ statusCode: 404 });
    // A card that pays normally opens no dispute; the sandbox's control disputes its charge later, once.
    const plain = await paymentSession("no-dispute@example.com");
    await completeCheckout(h.sandbox, plain.session.id);
    const plainIntent = await h.stripe.paymentIntents.retrieve(String((await h.stripe.checkout.sessions.retrieve(plain.session.id)).payment_intent));
    expect((await h.stripe.disputes.list({ payment_intent: plainIntent.id })).data).toEqual([]);
    const later = (charge: string) => fetch(`${h.sandbox.url}/_sandbox/charges/${charge}/dispute`, { method: "POST" });
    const opened = await later(String(plainIntent.latest_charge));
    expect(opened.status).toBe(200);
    expect(await opened.json()).toMatchObject({ object: "dispute", payment_intent: plainIntent.id, status: "needs_response" });
    expect(await h.stripe.charges.retrieve(String(plainIntent.latest_charge))).toMatchObject({ disputed: true });
    const again = await later(String(plainIntent.latest_charge));
    expect({ status: again.status, body: await again.json() }).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/already disputed/) } } });
    expect((await later("ch_missing")).status).toBe(404);
  });

  it("disputes a subscription's invoice charge made with the dispute card too", async () => {
    const customer = await h.stripe.customers.create({ email: "dispute-sub@example.com" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_createDispute" });
    const [payment] = (await h.stripe.invoicePayments.list({ invoice: String(sub.latest_invoice) })).data;
    const chargeId = String(payment?.payment.charge);
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ disputed: true });
    expect((await h.stripe.disputes.list({ charge: chargeId })).data).toMatchObject([{ amount: 1000, payment_intent: null, status: "needs_response" }]);
  });

  it("answers charges, PaymentIntents, refunds, invoice payments and disputes with every top-level field of Stripe's fixtures", async () => {
    type FixtureFields = Record<string, { fields: string[]; idPrefix: string | null }>;
    const fixtures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "fixture-fields.json"), "utf8")) as FixtureFields;
    const { session } = await paymentSession("fixture-pay@example.com");
    await completeCheckout(h.sandbox, session.id, { card: "4000000000000259" });
    const intentId = String((await h.stripe.checkout.sessions.retrieve(session.id)).payment_intent);
    const intent = await h.stripe.paymentIntents.retrieve(intentId);
    const customer = await h.stripe.customers.create({ email: "fixture-refund@example.com" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
    const [invoicePayment] = (await h.stripe.invoicePayments.list({ invoice: String(sub.latest_invoice) })).data;
    if (!invoicePayment) throw new Error("no invoice payment");
    const refund = await h.stripe.refunds.create({ charge: String(invoicePayment.payment.charge), amount: 100 });
    const [dispute] = (await h.stripe.disputes.list({ payment_intent: intentId })).data;
    if (!dispute) throw new Error("no dispute");
    const cases: Array<[string, object]> = [
      ["charge", await h.stripe.charges.retrieve(String(intent.latest_charge))],
      ["payment_intent", intent],
      ["refund", refund],
      ["invoice_payment", invoicePayment],
      ["dispute", dispute],
    ];
    // A charge's `refunds` list is not included by default since API 2022-11-15 (only through `expand`), so a
    // retrieved charge lacks it on Stripe too; the fixture still shows it.
    const onlyExpanded: Record<string, string[]> = { charge: ["refunds"] };
    for (const [resource, object] of cases) {
      const fixture = fixtures[resource];
      if (!fixture) throw new Error(`no fixture for ${resource}`);
      const missing = fixture.fields.filter((key) => !(key in object) && !onlyExpanded[resource]?.includes(key));
      expect({ resource, missing }).toEqual({ resource, missing: [] });
      // Stripe's invoice-payment example carries a placeholder id ("obj_..."); the others carry the real prefix.
      if (resource !== "invoice_payment" && "id" in object && typeof object.id === "string") {
        expect({ resource, prefix: object.id.split("_")[0] }).toEqual({ resource, prefix: fixture.idPrefix });
      }
    }
  });

  it("shows Pay (not Subscribe) on the hosted page", async () => {
    const { session } = await paymentSession("page@example.com");
    const html = await (await fetch(String(session.url))).text();
    expect(html).toMatch(/<button type="submit">Pay<\/button>/);
    expect(html).not.toMatch(/Subscribe/);
  });
});

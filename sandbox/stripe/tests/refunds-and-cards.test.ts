// Refunds of invoice payments (the charge behind a paid invoice, refunds.create, charge.refunded) and the test cards
// that decline where they are attached (4000 0000 0000 0002) or only when charged later (4000 0000 0000 0341).
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
});
afterAll(() => h.close());

async function paidSubscription(email: string) {
  const customer = await h.stripe.customers.create({ email });
  const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
  const invoiceId = String(sub.latest_invoice);
  return { customer, sub, invoiceId };
}

describe("refunds", () => {
  it("refunds a paid invoice's charge in full, once, with refund.created and charge.refunded", async () => {
    const { customer, invoiceId } = await paidSubscription("refund@example.com");
    const payments = await h.stripe.invoicePayments.list({ invoice: invoiceId });
    expect(payments.data).toHaveLength(1);
    const payment = payments.data[0]!;
    expect(payment).toMatchObject({ status: "paid", amount_paid: 1000, invoice: invoiceId, payment: { type: "charge" } });
    const chargeId = String(payment.payment.charge);
    const charge = await h.stripe.charges.retrieve(chargeId);
    expect(charge).toMatchObject({ amount: 1000, amount_refunded: 0, refunded: false, customer: customer.id, paid: true });

    await h.sandbox.idle();
    h.deliveries.length = 0;
    const refund = await h.stripe.refunds.create({ charge: chargeId, reason: "duplicate", metadata: { kept: "sub_x" } });
    expect(refund).toMatchObject({ amount: 1000, charge: chargeId, status: "succeeded", reason: "duplicate", metadata: { kept: "sub_x" } });
    expect(await h.stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 1000, refunded: true });
    await h.sandbox.idle();
    expect(h.types()).toEqual(["refund.created", "charge.refunded"]);
    const refunded = h.deliveries[1]?.event.data.object as Stripe.Charge;
    expect(refunded).toMatchObject({ id: chargeId, refunded: true, amount_refunded: 1000 });

    const again = await h.stripe.refunds.create({ charge: chargeId }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again).toMatchObject({ code: "charge_already_refunded" });
    expect((await h.stripe.refunds.list({ charge: chargeId })).data.map((r) => r.id)).toEqual([refund.id]);
  });

  it("refuses more than the charge has left, and a refund without a charge", async () => {
    const { invoiceId } = await paidSubscription("partial@example.com");
    const [payment] = (await h.stripe.invoicePayments.list({ invoice: invoiceId })).data;
    const chargeId = String(payment?.payment.charge);
    await h.stripe.refunds.create({ charge: chargeId, amount: 400 });
    await expect(h.stripe.refunds.create({ charge: chargeId, amount: 700 })).rejects.toMatchObject({ statusCode: 400, param: "amount" });
    expect((await h.stripe.refunds.create({ charge: chargeId })).amount).toBe(600);
    await expect(h.stripe.refunds.create({})).rejects.toMatchObject({ statusCode: 400 });
    await expect(h.stripe.refunds.create({ charge: "ch_missing" })).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("test cards where they are attached", () => {
  it("declines 4000 0000 0000 0002 on attach, on a customer's default and on a subscription's default", async () => {
    const customer = await h.stripe.customers.create({ email: "attach@example.com" });
    for (const attempt of [
      () => h.stripe.paymentMethods.attach("pm_card_chargeDeclined", { customer: customer.id }),
      () => h.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: "pm_card_visa_chargeDeclined" } }),
      () => h.stripe.customers.create({ email: "attach2@example.com", payment_method: "pm_card_chargeDeclined" }),
      () => h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_chargeDeclined" }),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(error).toMatchObject({ statusCode: 402, code: "card_declined", decline_code: "generic_decline" });
    }
    expect((await h.stripe.customers.listPaymentMethods(customer.id)).data).toHaveLength(0);
    expect((await h.stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toHaveLength(0);
  });

  it("attaches 4000 0000 0000 0341 and fails its next charge", async () => {
    const customer = await h.stripe.customers.create({ email: "later@example.com" });
    const pm = await h.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customer.id });
    expect(pm).toMatchObject({ customer: customer.id, card: { last4: "0341" } });
    const error = await h.stripe.subscriptions
      .create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: pm.id, payment_behavior: "error_if_incomplete" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 402, code: "card_declined" });
  });
});

// Promotion codes end to end through the app's own Checkout Session (allow_promotion_codes): a code typed on the
// hosted Checkout page discounts the first invoice, the sync grants the plan as for any payment, and the renewal is
// at full price. With STRIPE_AUTOMATIC_TAX unset the session asks for no tax and no invoice carries one.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

delete process.env.STRIPE_AUTOMATIC_TAX;
const harness = await startStripeHarness();
const { env, getDb, findUserById, signUp, ensureStripeCustomer, createCheckoutSession } = await loadApp();
const { DEMO_PROMOTION_CODE, ensureDemoPromotionCode } = await import("@/server/billing/demo-promotion");
const { stripe } = harness;

const sessionIdOf = (url: string) => new URL(url).pathname.split("/").pop() ?? "";
const post = (url: string, fields: Record<string, string>) => fetch(url, { method: "POST", body: new URLSearchParams(fields), redirect: "manual" });

describe("promotion codes on the app's Checkout", () => {
  it("sets up the sandbox's demo code LAUNCH20 (20% off once) once, however often setup runs", async () => {
    const first = await ensureDemoPromotionCode(stripe);
    const again = await ensureDemoPromotionCode(stripe);
    expect(first.created).toBe(true);
    expect(again).toEqual({ ...first, created: false });
    expect(await stripe.coupons.retrieve(DEMO_PROMOTION_CODE)).toMatchObject({ percent_off: 20, duration: "once", valid: true });
    const codes = await stripe.promotionCodes.list({ code: DEMO_PROMOTION_CODE });
    expect(codes.data.map((p) => [p.id, p.active])).toEqual([[first.promotionCode, true]]);
  });

  it("discounts the first invoice by the typed code, grants the plan, renews at full price, and sends no automatic_tax", async () => {
    expect(env.STRIPE_AUTOMATIC_TAX).toBe(false);
    await ensureDemoPromotionCode(stripe);
    const code = DEMO_PROMOTION_CODE.toLowerCase();

    const user = await signUp({ email: `promo-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const customerId = await ensureStripeCustomer(user.id);
    const checkout = await createCheckoutSession(user.id, { plan: "pro" });
    const session = await stripe.checkout.sessions.retrieve(sessionIdOf(checkout.url));
    expect(session).toMatchObject({ allow_promotion_codes: true, automatic_tax: { enabled: false } });

    const applied = await post(`${checkout.url}/promotion`, { code });
    expect(applied.status).toBe(200);
    expect(await applied.text()).toContain('data-testid="checkout-total">$23.20<');
    await harness.completeCheckout(checkout.url);
    await harness.idle();

    const row = await findUserById(await getDb(), user.id);
    expect(row).toMatchObject({ planActive: true, planId: "pro", subscriptionStatus: "active" });
    const sub = await stripe.subscriptions.retrieve(String(row?.stripeSubscriptionId), { expand: ["latest_invoice"] });
    const first = sub.latest_invoice as Stripe.Invoice;
    expect(first).toMatchObject({ subtotal: 2900, total: 2320, amount_paid: 2320, total_taxes: [], automatic_tax: { enabled: false } });
    expect(first.total_discount_amounts).toEqual([expect.objectContaining({ amount: 580 })]);

    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await harness.advanceClock(customerId, new Date((periodEnd + 3600) * 1000));
    await harness.idle();
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => [i.billing_reason, i.total])).toEqual([
      ["subscription_cycle", 2900],
      ["subscription_create", 2320],
    ]);
    expect(await findUserById(await getDb(), user.id)).toMatchObject({ planActive: true, planId: "pro", subscriptionStatus: "active" });
    // The discount's own events reach the app too, and are acknowledged like any event it does not act on.
    const discountEvents = harness.answers.filter((a) => a.type.startsWith("customer.discount."));
    expect(discountEvents.map((a) => [a.type, a.status])).toEqual([
      ["customer.discount.created", 200],
      ["customer.discount.deleted", 200],
    ]);
  });
});

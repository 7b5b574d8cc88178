// STRIPE_AUTOMATIC_TAX=1: the app's Checkout Session asks for automatic tax, and the invoice it leads to carries the
// tax line (the sandbox's fixed rate on the address Checkout collects) while the sync grants the plan as usual.
// The unset case is checked in checkout-promotion.test.ts (a module reads the environment once, when it loads).
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

// Before the harness: it loads the webhook route, and with it lib/env.
process.env.STRIPE_AUTOMATIC_TAX = "1";
const harness = await startStripeHarness();
const { env, getDb, findUserById, signUp, ensureStripeCustomer, createCheckoutSession } = await loadApp();
const { parseEnv, EnvError } = await import("@/lib/env");
const { stripe } = harness;

const sessionIdOf = (url: string) => new URL(url).pathname.split("/").pop() ?? "";

describe("STRIPE_AUTOMATIC_TAX", () => {
  it("is a 0/1 flag, off when unset, and a bad value names the variable", () => {
    expect(parseEnv({}).STRIPE_AUTOMATIC_TAX).toBe(false);
    expect(parseEnv({ STRIPE_AUTOMATIC_TAX: "" }).STRIPE_AUTOMATIC_TAX).toBe(false);
    expect(parseEnv({ STRIPE_AUTOMATIC_TAX: "0" }).STRIPE_AUTOMATIC_TAX).toBe(false);
    expect(parseEnv({ STRIPE_AUTOMATIC_TAX: "1" }).STRIPE_AUTOMATIC_TAX).toBe(true);
    expect(parseEnv({ STRIPE_AUTOMATIC_TAX: "true" }).STRIPE_AUTOMATIC_TAX).toBe(true);
    expect(() => parseEnv({ STRIPE_AUTOMATIC_TAX: "yes" })).toThrow(EnvError);
    expect(() => parseEnv({ STRIPE_AUTOMATIC_TAX: "yes" })).toThrow(/STRIPE_AUTOMATIC_TAX/);
  });

  it("sends automatic_tax on Checkout Session creation; the paid invoice shows the tax and the plan is granted", async () => {
    expect(env.STRIPE_AUTOMATIC_TAX).toBe(true);
    const user = await signUp({ email: `taxed-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const customerId = await ensureStripeCustomer(user.id);
    const checkout = await createCheckoutSession(user.id, { plan: "starter" });
    expect(checkout.kind).toBe("checkout");
    const session = await stripe.checkout.sessions.retrieve(sessionIdOf(checkout.url));
    expect(session).toMatchObject({ customer: customerId, automatic_tax: { enabled: true }, billing_address_collection: "required", allow_promotion_codes: true });

    await harness.completeCheckout(checkout.url);
    await harness.idle();
    const row = await findUserById(await getDb(), user.id);
    expect(row).toMatchObject({ planActive: true, planId: "starter", subscriptionStatus: "active" });
    const sub = await stripe.subscriptions.retrieve(String(row?.stripeSubscriptionId), { expand: ["latest_invoice"] });
    expect(sub.automatic_tax.enabled).toBe(true);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ subtotal: 900, total_excluding_tax: 900, total: 990, amount_paid: 990, status: "paid" });
    expect(invoice.total_taxes).toEqual([expect.objectContaining({ amount: 90, taxable_amount: 900, tax_behavior: "exclusive" })]);
  });
});

// Exactly one live subscription per customer: a new Checkout Session expires the customer's other open ones, and when
// two sessions are paid anyway (both completed before either webhook), the sync keeps the older subscription, cancels
// the newer at once and refunds it in full, whatever the completion order, with every event delivered three times,
// shuffled, then replayed three more times.
import type Stripe from "stripe";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { duplicateSubscriptions } from "@/db/schema";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const { getDb, findUserById, signUp, ensureStripeCustomer, createCheckoutSession, plans, getBudgetStore, getBillingStatus } = await loadApp();
const { stripe } = harness;

let counter = 0;

async function customerUser() {
  const user = await signUp({ email: `two-tabs${++counter}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  const customerId = await ensureStripeCustomer(user.id);
  return { user, customerId };
}

async function userRow(userId: string) {
  const row = await findUserById(await getDb(), userId);
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

const sessionIdOf = (url: string) => new URL(url).pathname.split("/").pop() ?? "";

/** What a second tab's request created before the first tab's request could expire it: the same session, made directly. */
async function rawSession(customerId: string, userId: string, plan: "starter" | "pro") {
  const price = (await stripe.prices.list({ lookup_keys: [plans[plan].lookupKey] })).data[0];
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customerId,
    line_items: [{ price: price?.id, quantity: 1 }],
    billing_address_collection: "required",
    client_reference_id: userId,
    subscription_data: { metadata: { userId, plan } },
    success_url: "http://localhost:3000/account?checkout=success&session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://localhost:3000/pricing",
  });
  return session.url ?? "";
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Redelivers every event about the customer (as new event ids, so none is skipped as already processed), shuffled. */
async function replayCustomerEvents(customerId: string, rounds: number) {
  const events: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    if (JSON.stringify(event.data.object).includes(customerId)) events.push(event);
  }
  expect(events.length).toBeGreaterThan(8);
  for (let round = 0; round < rounds; round++) {
    for (const event of shuffled(events)) {
      const payload = JSON.stringify({ ...event, id: `${event.id}_replay${round}` });
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
      const response = await harness.postWebhook(
        new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }),
      );
      expect(response.status).toBe(200);
    }
  }
}

async function refundsOf(customerId: string) {
  const charges = await stripe.charges.list({ customer: customerId, limit: 100 });
  const refunds: Stripe.Refund[] = [];
  for (const charge of charges.data) refunds.push(...(await stripe.refunds.list({ charge: charge.id, limit: 100 })).data);
  return refunds;
}

describe("a new Checkout Session", () => {
  it("expires the customer's other open sessions first, so the first tab can no longer be paid", async () => {
    const { user, customerId } = await customerUser();
    const first = await createCheckoutSession(user.id, { plan: "starter" });
    const second = await createCheckoutSession(user.id, { plan: "pro" });
    expect((await stripe.checkout.sessions.retrieve(sessionIdOf(first.url))).status).toBe("expired");
    expect((await stripe.checkout.sessions.retrieve(sessionIdOf(second.url))).status).toBe("open");
    expect((await harness.attemptCheckout(first.url)).status).toBe(400);
    await harness.completeCheckout(second.url);
    await harness.idle();
    const subs = await stripe.subscriptions.list({ customer: customerId, status: "all" });
    expect(subs.data).toHaveLength(1);
    expect(await userRow(user.id)).toMatchObject({ planId: "pro", planActive: true });
    expect(await refundsOf(customerId)).toEqual([]);
  });
});

describe("two paid Checkout pages", () => {
  for (const order of [
    ["starter", "pro"],
    ["pro", "starter"],
  ] as const) {
    it(`keeps the first paid (${order[0]}), cancels and refunds the second (${order[1]}), under shuffled triple deliveries and replays x3`, async () => {
      const [firstPlan, secondPlan] = order;
      const { user, customerId } = await customerUser();
      const tabs = { [firstPlan]: await rawSession(customerId, user.id, firstPlan), [secondPlan]: await rawSession(customerId, user.id, secondPlan) };

      await harness.faults({ pauseDeliveries: true });
      try {
        await harness.completeCheckout(tabs[firstPlan] ?? "");
        // The customer lives on a test clock: the second payment comes a few seconds later, as a person's would
        // (Stripe's `created` has one-second resolution).
        const clock = await stripe.testHelpers.testClocks.retrieve(String((await stripe.customers.retrieve(customerId) as Stripe.Customer).test_clock));
        await harness.advanceClock(customerId, new Date((clock.frozen_time + 5) * 1000));
        await harness.completeCheckout(tabs[secondPlan] ?? "");
        await harness.faults({ pauseDeliveries: false, duplicate: 3, shuffle: true });
        await harness.idle();
      } finally {
        await harness.faults({ pauseDeliveries: false, duplicate: 1, shuffle: false });
      }
      await replayCustomerEvents(customerId, 3);
      await harness.idle();

      const all = (await stripe.subscriptions.list({ customer: customerId, status: "all" })).data;
      expect(all).toHaveLength(2);
      const live = all.filter((sub) => sub.status === "active");
      expect(live).toHaveLength(1);
      const kept = live[0]!;
      const retired = all.find((sub) => sub.id !== kept.id)!;
      expect(kept.items.data[0]?.price.lookup_key).toBe(plans[firstPlan].lookupKey);
      expect(retired.status).toBe("canceled");
      expect(retired.metadata).toMatchObject({ hourglass_duplicate_of: kept.id, hourglass_refunded_cents: String(plans[secondPlan].amountCents) });
      expect(retired.cancellation_details?.comment).toContain(kept.id);

      const refunds = await refundsOf(customerId);
      expect(refunds).toHaveLength(1);
      expect(refunds[0]).toMatchObject({ amount: plans[secondPlan].amountCents, reason: "duplicate", status: "succeeded" });
      const refundedCharge = await stripe.charges.retrieve(String(refunds[0]?.charge));
      expect(refundedCharge).toMatchObject({ refunded: true, amount_refunded: plans[secondPlan].amountCents });
      const events = await stripe.events.list({ type: "charge.refunded", limit: 100 });
      expect(events.data.filter((event) => (event.data.object as Stripe.Charge).customer === customerId)).toHaveLength(1);

      const row = await userRow(user.id);
      expect(row).toMatchObject({ stripeSubscriptionId: kept.id, planId: firstPlan, planActive: true, subscriptionStatus: "active" });
      expect(row.stripeCurrentPeriodEnd?.getTime()).toBe((kept.items.data[0]?.current_period_end ?? 0) * 1000);
      expect(await getBudgetStore().read(user.id)).toMatchObject({ tokensRemaining: plans[firstPlan].tokenBudget });
      expect((await getBillingStatus(user.id)).planId).toBe(firstPlan);

      const recorded = await (await getDb()).select().from(duplicateSubscriptions).where(eq(duplicateSubscriptions.userId, user.id));
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toMatchObject({
        subscriptionId: retired.id,
        keptSubscriptionId: kept.id,
        customerId,
        refundedCents: plans[secondPlan].amountCents,
      });
      expect(recorded[0]?.reason).toMatch(/canceled at once and its payment refunded in full/);
    });
  }
});

// Plan changes move the budget fairly, once: an upgrade raises what is left by the difference of the two plans'
// budgets at once, whatever the order or number of its webhook deliveries; a downgrade made in the portal waits for
// the period end, keeps what is left until then, and the smaller budget comes with the renewal. Real sandbox, real
// route, the app's own budget store.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const {
  getDb,
  findUserById,
  signUp,
  ensureStripeCustomer,
  createCheckoutSession,
  createPortalSession,
  plans,
  getBudgetStore,
  getBillingStatus,
} = await loadApp();
const { stripe } = harness;

const DAY = 24 * 60 * 60 * 1000;
const SPENT = 270;
let counter = 0;

async function userRow(userId: string) {
  const row = await findUserById(await getDb(), userId);
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

async function subscribedUser(plan: "starter" | "pro") {
  const user = await signUp({ email: `plan-change${++counter}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  const customerId = await ensureStripeCustomer(user.id);
  const checkout = await createCheckoutSession(user.id, { plan });
  expect(checkout.kind).toBe("checkout");
  await harness.completeCheckout(checkout.url);
  return { userId: user.id, customerId };
}

async function spend(userId: string, tokens: number) {
  const store = getBudgetStore();
  const requestId = `spend-${Math.random()}`;
  expect((await store.reserve(userId, requestId, tokens)).ok).toBe(true);
  await store.settle(userId, requestId, tokens);
}

async function liveSubscription(customerId: string): Promise<Stripe.Subscription> {
  const sub = await harness.currentSubscription(customerId);
  if (!sub) throw new Error("no subscription");
  return sub;
}

async function priceOf(plan: "starter" | "pro"): Promise<string> {
  const prices = await stripe.prices.list({ lookup_keys: [plans[plan].lookupKey] });
  const id = prices.data[0]?.id;
  if (!id) throw new Error(`no price for ${plan}`);
  return id;
}

/** Starter -> Pro through the API, as an upgrade made anywhere (portal or dashboard) reaches Stripe. */
async function upgrade(customerId: string) {
  const sub = await liveSubscription(customerId);
  await stripe.subscriptions.update(sub.id, {
    items: [{ id: sub.items.data[0]?.id, price: await priceOf("pro") }],
    proration_behavior: "create_prorations",
  });
}

/** The customer's events created since `since` (unix seconds), oldest first. */
async function eventsOf(customerId: string, since: number): Promise<Stripe.Event[]> {
  const events = await stripe.events.list({ limit: 100, created: { gte: since } });
  return events.data.filter((event) => JSON.stringify(event.data.object).includes(customerId)).reverse();
}

/** Posts an event to the real route as a new delivery (a fresh id, so it is not deduplicated by id). */
async function deliver(event: Stripe.Event, copy: string) {
  const payload = JSON.stringify({ ...event, id: `${event.id}_${copy}` });
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
  const response = await harness.postWebhook(
    new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }),
  );
  expect(response.status).toBe(200);
}

const raised = plans.starter.tokenBudget - SPENT + plans.pro.tokenBudget - plans.starter.tokenBudget;

describe("an upgrade", () => {
  it("raises what is left by the difference of the two budgets, once, with every event three times shuffled", async () => {
    const { userId, customerId } = await subscribedUser("starter");
    await harness.idle();
    await spend(userId, SPENT);
    const before = await userRow(userId);
    await harness.faults({ duplicate: 3, shuffle: true });
    try {
      await upgrade(customerId);
      await harness.idle();
    } finally {
      await harness.faults({});
    }
    const after = await userRow(userId);
    expect(after).toMatchObject({ planId: "pro", planActive: true });
    // The period is unchanged; the budget rose by 4,000,000 exactly once.
    expect(after.stripeCurrentPeriodEnd).toEqual(before.stripeCurrentPeriodEnd);
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: raised, resetsAt: before.stripeCurrentPeriodEnd });
    const status = await getBillingStatus(userId);
    expect(status.budget).toEqual({ tokenBudget: plans.pro.tokenBudget, tokensRemaining: raised, resetsAt: before.stripeCurrentPeriodEnd });
  });

  it("raises nothing while its charge is declined, and once when that invoice is paid", async () => {
    const { userId, customerId } = await subscribedUser("starter");
    await harness.idle();
    await spend(userId, SPENT);
    const sub = await liveSubscription(customerId);
    const failing = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customerId });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    await upgrade(customerId);
    await harness.idle();
    const change = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0];
    expect([change?.billing_reason, change?.status]).toEqual(["subscription_update", "open"]);
    expect(await userRow(userId)).toMatchObject({ planId: "pro" });
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(plans.starter.tokenBudget - SPENT);

    const card = await stripe.paymentMethods.attach("pm_card_visa", { customer: customerId });
    await stripe.subscriptions.update(sub.id, { default_payment_method: card.id });
    await stripe.invoices.pay(String(change?.id));
    await harness.idle();
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(raised);
    // Later syncs (a replay of everything) add nothing more.
    await harness.faults({ duplicate: 3, shuffle: true });
    try {
      await stripe.customers.update(customerId, { metadata: { touched: "1" } });
      await harness.idle();
    } finally {
      await harness.faults({});
    }
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(raised);
  });

  it("raises once in any order of the upgrade's events, each delivered three times, and replays later change nothing", async () => {
    const { userId, customerId } = await subscribedUser("starter");
    await harness.idle();
    await spend(userId, SPENT);
    const since = Math.floor(Date.now() / 1000) - 1;
    // The sandbox keeps the upgrade's own deliveries back; the test delivers them itself, in chosen orders.
    await harness.faults({ pauseDeliveries: true });
    try {
      await upgrade(customerId);
      const sub = await liveSubscription(customerId);
      const events = (await eventsOf(customerId, since)).filter(
        (event) => event.type === "customer.subscription.updated" || event.type.startsWith("invoice."),
      );
      expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(["customer.subscription.updated", "invoice.paid"]));
      expect(sub.items.data[0]?.price.id).toBe(await priceOf("pro"));
      const orders = [[...events].reverse(), events, [...events.slice(1), ...events.slice(0, 1)]];
      for (const [n, order] of orders.entries()) {
        for (const event of order) for (const copy of [1, 2, 3]) await deliver(event, `order${n}_copy${copy}`);
        expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(raised);
      }
    } finally {
      await harness.faults({});
    }
    // The sandbox's own deliveries arrive after all that: still once.
    await harness.idle();
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(raised);
    expect(await userRow(userId)).toMatchObject({ planId: "pro" });
  });

  it("made before the purchase's events arrived: one refill at the new plan's budget, nothing on top", async () => {
    await harness.faults({ duplicate: 3, shuffle: true, pauseDeliveries: true });
    let bought: { userId: string; customerId: string };
    try {
      bought = await subscribedUser("starter");
      await upgrade(bought.customerId);
    } finally {
      await harness.faults({ duplicate: 3, shuffle: true });
    }
    await harness.idle();
    await harness.faults({});
    expect(await userRow(bought.userId)).toMatchObject({ planId: "pro" });
    expect((await getBudgetStore().read(bought.userId))?.tokensRemaining).toBe(plans.pro.tokenBudget);
  });

  it("renews at the new plan's full budget", async () => {
    const { userId, customerId } = await subscribedUser("starter");
    await harness.idle();
    await spend(userId, SPENT);
    await upgrade(customerId);
    await harness.idle();
    const row = await userRow(userId);
    await harness.advanceClock(customerId, new Date(row.stripeCurrentPeriodEnd!.getTime() + DAY));
    await harness.idle();
    const renewed = await userRow(userId);
    expect(renewed.stripeCurrentPeriodEnd!.getTime()).toBeGreaterThan(row.stripeCurrentPeriodEnd!.getTime());
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.pro.tokenBudget, resetsAt: renewed.stripeCurrentPeriodEnd });
  });
});

/** The hosted portal's plan switch, confirmed, as the customer clicks it. */
async function switchInPortal(userId: string, plan: "starter" | "pro") {
  const { url } = await createPortalSession(userId);
  const response = await fetch(`${url}/switch`, {
    method: "POST",
    body: new URLSearchParams({ price: await priceOf(plan), confirm: "1" }),
    redirect: "manual",
  });
  expect(response.status).toBe(303);
  return url;
}

describe("a downgrade", () => {
  it("made in the portal waits for the period end: the plan and budget stay, the account shows the scheduled change", async () => {
    const { userId, customerId } = await subscribedUser("pro");
    await harness.idle();
    await spend(userId, SPENT);
    const before = await userRow(userId);
    const periodEnd = before.stripeCurrentPeriodEnd!;
    await harness.faults({ duplicate: 3, shuffle: true });
    try {
      await switchInPortal(userId, "starter");
      await harness.idle();
    } finally {
      await harness.faults({});
    }
    // Stripe scheduled it: nothing was invoiced, the subscription is still on Pro.
    const sub = await liveSubscription(customerId);
    expect(sub.items.data[0]?.price.id).toBe(await priceOf("pro"));
    expect(sub.schedule).not.toBeNull();
    const invoices = await stripe.invoices.list({ customer: customerId });
    expect(invoices.data.map((invoice) => invoice.billing_reason)).toEqual(["subscription_create"]);

    expect(await userRow(userId)).toMatchObject({ planId: "pro", scheduledPlanId: "starter", scheduledPlanAt: periodEnd, stripeCurrentPeriodEnd: periodEnd });
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.pro.tokenBudget - SPENT, resetsAt: periodEnd });
    const status = await getBillingStatus(userId);
    expect(status).toMatchObject({ planId: "pro", renewsAt: periodEnd, scheduledChange: { planId: "starter", planName: "Starter", at: periodEnd } });
    expect(status.budget).toEqual({ tokenBudget: plans.pro.tokenBudget, tokensRemaining: plans.pro.tokenBudget - SPENT, resetsAt: periodEnd });

    // The renewal brings Starter and Starter's budget, once; nothing is scheduled any more.
    await harness.faults({ duplicate: 3, shuffle: true });
    try {
      await harness.advanceClock(customerId, new Date(periodEnd.getTime() + DAY));
      await harness.idle();
    } finally {
      await harness.faults({});
    }
    const renewed = await userRow(userId);
    expect(renewed).toMatchObject({ planId: "starter", stripePriceId: await priceOf("starter"), scheduledPlanId: null, scheduledPlanAt: null });
    expect(renewed.stripeCurrentPeriodEnd!.getTime()).toBeGreaterThan(periodEnd.getTime());
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.starter.tokenBudget, resetsAt: renewed.stripeCurrentPeriodEnd });
    const paid = await stripe.invoices.list({ customer: customerId, limit: 1 });
    expect(paid.data[0]).toMatchObject({ billing_reason: "subscription_cycle", amount_paid: plans.starter.amountCents });
    expect((await getBillingStatus(userId)).scheduledChange).toBeNull();
  });

  it("kept after all (the portal's Keep) is no longer shown, and an upgrade in the portal still applies at once", async () => {
    const { userId, customerId } = await subscribedUser("pro");
    await harness.idle();
    const portalUrl = await switchInPortal(userId, "starter");
    await harness.idle();
    expect((await userRow(userId)).scheduledPlanId).toBe("starter");
    const kept = await fetch(`${portalUrl}/keep`, { method: "POST", redirect: "manual" });
    expect(kept.status).toBe(303);
    await harness.idle();
    expect(await userRow(userId)).toMatchObject({ planId: "pro", scheduledPlanId: null, scheduledPlanAt: null });

    // Starter through the API (at once), then Pro in the portal: an upgrade is never scheduled.
    const sub = await liveSubscription(customerId);
    await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]?.id, price: await priceOf("starter") }], proration_behavior: "none" });
    await harness.idle();
    await spend(userId, SPENT);
    const remaining = (await getBudgetStore().read(userId))?.tokensRemaining;
    // A downgrade made at once never lowers what is left.
    expect(remaining).toBe(plans.pro.tokenBudget - SPENT);
    await switchInPortal(userId, "pro");
    await harness.idle();
    expect(await userRow(userId)).toMatchObject({ planId: "pro", scheduledPlanId: null });
    // Back to a cap this period's budget was already granted under: nothing is added twice.
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(plans.pro.tokenBudget - SPENT);
  });

  it("does not show a scheduled change on a subscription set to cancel", async () => {
    const { userId, customerId } = await subscribedUser("pro");
    await harness.idle();
    await switchInPortal(userId, "starter");
    await harness.idle();
    const sub = await liveSubscription(customerId);
    await stripe.subscriptions.update(sub.id, { cancel_at: sub.items.data[0]?.current_period_end ?? 0 });
    await harness.idle();
    const status = await getBillingStatus(userId);
    expect(status.cancelsAt).not.toBeNull();
    expect(status.scheduledChange).toBeNull();
    expect((await userRow(userId)).scheduledPlanId).toBeNull();
  });
});

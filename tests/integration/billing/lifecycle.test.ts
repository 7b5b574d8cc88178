// The subscription lifecycle through the real Stripe client, the sandbox's hosted-checkout completion and its
// test clocks, with signed webhooks delivered to the real route handler and state checked in the database.
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const {
  getDb,
  findUserById,
  stripeEvents,
  signUp,
  ensureStripeCustomer,
  createCheckoutSession,
  syncAfterCheckout,
  getChatEntitlement,
  plans,
  subscriptionState,
  syncSubscriptionFromStripe,
  getBudgetStore,
  createMemoryBudgetStore,
  getBillingStatus,
  restoreBudgetFromStripe,
  createCaller,
} = await loadApp();
const { stripe } = harness;

const DAY = 24 * 60 * 60 * 1000;
let counter = 0;

async function userRow(userId: string) {
  const row = await findUserById(await getDb(), userId);
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

/** A signed-up user who has paid for `plan` on the hosted checkout, with every webhook delivered. */
async function subscribedUser(plan: "starter" | "pro" = "starter") {
  const user = await signUp({ email: `buyer${++counter}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  const customerId = await ensureStripeCustomer(user.id);
  const checkout = await createCheckoutSession(user.id, { plan });
  expect(checkout.kind).toBe("checkout");
  await harness.completeCheckout(checkout.url);
  await harness.idle();
  const row = await userRow(user.id);
  return { user, customerId, row, checkoutUrl: checkout.url };
}

async function spend(userId: string, tokens: number) {
  const store = getBudgetStore();
  const requestId = `spend-${Math.random()}`;
  const reservation = await store.reserve(userId, requestId, tokens);
  expect(reservation.ok).toBe(true);
  await store.settle(userId, requestId, tokens);
}

async function currentSubscription(customerId: string) {
  const list = await stripe.subscriptions.list({ customer: customerId, status: "all" });
  const sub = list.data[0];
  if (!sub) throw new Error("no subscription");
  return sub;
}

describe("purchase", () => {
  it("sets all six billing columns from the webhooks and starts the plan's token budget", async () => {
    const { user, customerId, row } = await subscribedUser("starter");
    const sub = await currentSubscription(customerId);
    const item = sub.items.data[0];
    expect(row).toMatchObject({
      stripeCustomerId: customerId,
      stripeSubscriptionId: sub.id,
      stripePriceId: item?.price.id,
      planActive: true,
      planId: "starter",
      subscriptionStatus: "active",
      cancelAt: null,
    });
    expect(row.stripeCurrentPeriodEnd?.getTime()).toBe((item?.current_period_end ?? 0) * 1000);
    expect(row.planExpires!.getTime()).toBeGreaterThan(row.stripeCurrentPeriodEnd!.getTime()); // the grace
    expect(await getBudgetStore().read(user.id)).toEqual({
      tokensRemaining: plans.starter.tokenBudget,
      resetsAt: row.stripeCurrentPeriodEnd,
    });
    expect(await getChatEntitlement(user.id)).toEqual({
      active: true,
      tokenBudget: plans.starter.tokenBudget,
      periodEndsAt: row.stripeCurrentPeriodEnd,
      models: plans.starter.models,
      paymentDue: null,
    });
    const events = await (await getDb()).select().from(stripeEvents).where(eq(stripeEvents.customerId, customerId));
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(["customer.subscription.created", "invoice.payment_succeeded", "checkout.session.completed"]),
    );
  });

  it("shows the plan from the success page alone when the webhooks are late, and never refills twice", async () => {
    const user = await signUp({ email: `late${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    await ensureStripeCustomer(user.id);
    const checkout = await createCheckoutSession(user.id, { plan: "pro" });
    await harness.faults({ pauseDeliveries: true });
    try {
      await harness.completeCheckout(checkout.url);
      const sessionId = new URL(checkout.url).pathname.split("/").pop() ?? "";
      const result = await syncAfterCheckout(user.id, sessionId);
      expect(result).toMatchObject({ outcome: "synced", budgetReset: true });
      expect(await userRow(user.id)).toMatchObject({ planActive: true, planId: "pro", subscriptionStatus: "active" });
      await spend(user.id, 1_234);
    } finally {
      await harness.faults({});
    }
    await harness.idle();
    // The webhooks arrived after the user had already chatted: the period's budget is not refilled.
    expect((await getBudgetStore().read(user.id))?.tokensRemaining).toBe(plans.pro.tokenBudget - 1_234);
  });

  it("billing.status only reads: no Stripe request and no write, even for a paid budget the store has lost", async () => {
    const { user, row } = await subscribedUser("starter");
    const db = await getDb();
    const writes: string[] = [];
    const watched = Object.assign(Object.create(db) as typeof db, {
      insert: ((...args) => (writes.push("insert"), db.insert(...args))) satisfies typeof db.insert,
      update: ((...args) => (writes.push("update"), db.update(...args))) satisfies typeof db.update,
      delete: ((...args) => (writes.push("delete"), db.delete(...args))) satisfies typeof db.delete,
      transaction: ((...args) => (writes.push("transaction"), db.transaction(...args))) satisfies typeof db.transaction,
      execute: ((...args) => (writes.push("execute"), db.execute(...args))) satisfies typeof db.execute,
    });
    const store = getBudgetStore();
    const storeWrites = (["reserve", "settle", "reset"] as const).map((method) => vi.spyOn(store, method));
    const stripeRequests = harness.sandbox.apiRequests();
    try {
      const status = await createCaller({ db: watched, userId: user.id }).billing.status();
      expect(status?.budget).toEqual({ tokenBudget: plans.starter.tokenBudget, tokensRemaining: plans.starter.tokenBudget, resetsAt: row.stripeCurrentPeriodEnd });
      // The budget store lost the budget: the status says so and repairs nothing (chat restores it, explicitly).
      const emptied = createMemoryBudgetStore();
      const missing = await getBillingStatus(user.id, { db: watched, budget: emptied });
      expect(missing).toMatchObject({ planId: "starter", active: true });
      expect(missing.budget).toEqual({ tokenBudget: plans.starter.tokenBudget, tokensRemaining: 0, resetsAt: row.stripeCurrentPeriodEnd });
      expect(await emptied.read(user.id)).toBeNull();
      expect(harness.sandbox.apiRequests() - stripeRequests).toBe(0);
      expect(writes).toEqual([]);
      for (const spy of storeWrites) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of storeWrites) spy.mockRestore();
    }
  });

  it("restores a paid period's budget from Stripe when the store has lost it, as the explicit step chat takes", async () => {
    const { user, row } = await subscribedUser("starter");
    const emptied = createMemoryBudgetStore();
    await restoreBudgetFromStripe(user.id, { budget: emptied });
    const status = await getBillingStatus(user.id, { budget: emptied });
    expect(status.budget).toEqual({
      tokenBudget: plans.starter.tokenBudget,
      tokensRemaining: plans.starter.tokenBudget,
      resetsAt: row.stripeCurrentPeriodEnd,
    });
    // A budget that exists (spent or not) is never refilled, not even by a second restore.
    await emptied.reserve(user.id, "r1", 5_000);
    await emptied.settle(user.id, "r1", 5_000);
    await restoreBudgetFromStripe(user.id, { budget: emptied });
    const again = await getBillingStatus(user.id, { budget: emptied });
    expect(again.budget?.tokensRemaining).toBe(plans.starter.tokenBudget - 5_000);
  });

  it("still shows the plan when the budget store is down, with the budget marked as unreadable", async () => {
    const { user, row } = await subscribedUser("starter");
    const down = { read: () => Promise.reject(new Error("budget store unreachable")) };
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const status = await getBillingStatus(user.id, { budget: down });
      expect(status).toMatchObject({ planId: "starter", active: true, renewsAt: row.stripeCurrentPeriodEnd });
      expect(status.budget).toEqual({ tokenBudget: plans.starter.tokenBudget, tokensRemaining: null, resetsAt: row.stripeCurrentPeriodEnd });
      expect(logged).toHaveBeenCalledWith(`could not read the budget of user ${user.id}`, expect.any(Error));
    } finally {
      logged.mockRestore();
    }
  });

  it("records the refilled period, so later syncs of that period leave the budget store alone", async () => {
    const { user, customerId, row } = await subscribedUser("starter");
    expect(row.budgetRefilledFor).toEqual(row.stripeCurrentPeriodEnd);
    const resets: Date[] = [];
    const store = getBudgetStore();
    const counting = {
      reset: (userId: string, budget: number, periodEnd: Date) => {
        resets.push(periodEnd);
        return store.reset(userId, budget, periodEnd);
      },
      raiseCap: store.raiseCap.bind(store),
    };
    expect(await syncSubscriptionFromStripe(customerId, { budget: counting })).toMatchObject({ outcome: "synced", budgetReset: false });
    expect(resets).toEqual([]);
    // Told the budget is missing, the sync asks again; the store's own marker keeps it a no-op here.
    expect(await syncSubscriptionFromStripe(customerId, { budget: counting }, { budgetMissing: true })).toMatchObject({
      outcome: "synced",
      budgetReset: false,
    });
    expect(resets).toEqual([row.stripeCurrentPeriodEnd]);

    await harness.advanceClock(customerId, new Date(row.stripeCurrentPeriodEnd!.getTime() + DAY));
    await harness.idle();
    const renewed = await userRow(user.id);
    expect(renewed.budgetRefilledFor).toEqual(renewed.stripeCurrentPeriodEnd);
    expect(renewed.budgetRefilledFor!.getTime()).toBeGreaterThan(row.stripeCurrentPeriodEnd!.getTime());
  });

  it("ignores a success-page return for someone else's checkout session", async () => {
    const buyer = await subscribedUser();
    const other = await signUp({ email: `other${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    await ensureStripeCustomer(other.id);
    const sessionId = new URL(buyer.checkoutUrl).pathname.split("/").pop() ?? "";
    expect(await syncAfterCheckout(other.id, sessionId)).toBeNull();
    expect(await userRow(other.id)).toMatchObject({ planActive: false, stripeSubscriptionId: null });
  });

  it("sends a subscriber to the portal instead of selling a second subscription", async () => {
    const { user, customerId } = await subscribedUser();
    const again = await createCheckoutSession(user.id, { plan: "pro" });
    expect(again.kind).toBe("portal");
    expect(again.url).toContain("/portal/");
    const subs = await stripe.subscriptions.list({ customer: customerId, status: "all" });
    expect(subs.data).toHaveLength(1);
  });

  it("leaves a declined card on the free tier with nothing created", async () => {
    const user = await signUp({ email: `declined${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const customerId = await ensureStripeCustomer(user.id);
    const checkout = await createCheckoutSession(user.id, { plan: "starter" });
    const response = await harness.attemptCheckout(checkout.url, "4000000000000002");
    expect(response.status).toBe(402);
    await harness.idle();
    expect(await userRow(user.id)).toMatchObject({ planActive: false, stripeSubscriptionId: null });
    expect((await stripe.subscriptions.list({ customer: customerId, status: "all" })).data).toHaveLength(0);
    expect(await getBudgetStore().read(user.id)).toBeNull();
  });
});

describe("renewal and failure", () => {
  it("renews through the test clock: the period advances and the budget refills exactly once", async () => {
    const { user, customerId, row } = await subscribedUser();
    await spend(user.id, 400_000);
    const firstEnd = row.stripeCurrentPeriodEnd!;
    await harness.advanceClock(customerId, new Date(firstEnd.getTime() + DAY));
    await harness.idle();
    const renewed = await userRow(user.id);
    expect(renewed.stripeCurrentPeriodEnd!.getTime()).toBeGreaterThan(firstEnd.getTime() + 20 * DAY);
    expect(renewed).toMatchObject({ planActive: true, subscriptionStatus: "active" });
    expect(await getBudgetStore().read(user.id)).toEqual({ tokensRemaining: plans.starter.tokenBudget, resetsAt: renewed.stripeCurrentPeriodEnd });

    // Spend again, then redeliver every event of the customer: nothing refills mid-period.
    await spend(user.id, 10_000);
    const events = await stripe.events.list({ limit: 100 });
    const mine = events.data.filter((event) => JSON.stringify(event.data.object).includes(customerId));
    expect(mine.length).toBeGreaterThan(5);
    for (const event of mine) {
      const payload = JSON.stringify({ ...event, id: `${event.id}_replayed` });
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
      const response = await harness.postWebhook(
        new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }),
      );
      expect(response.status).toBe(200);
    }
    expect((await getBudgetStore().read(user.id))?.tokensRemaining).toBe(plans.starter.tokenBudget - 10_000);
  });

  // Chat keeps working through BILLING_GRACE_SECONDS after a failed renewal, so the renewed period's budget comes with
  // the grace (once: paying later adds nothing, see dunning.test.ts); an unpaid renewal seen after the grace gets none.
  it("marks a failed renewal past due, keeps access for the retries, and grants the renewed budget once for the grace", async () => {
    const { user, customerId, row } = await subscribedUser();
    await spend(user.id, 300_000);
    const declining = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customerId });
    await stripe.customers.update(customerId, { invoice_settings: { default_payment_method: declining.id } });
    const sub = await currentSubscription(customerId);
    await stripe.subscriptions.update(sub.id, { default_payment_method: declining.id });
    await harness.advanceClock(customerId, new Date(row.stripeCurrentPeriodEnd!.getTime() + 60_000));
    await harness.idle();
    const after = await userRow(user.id);
    expect(after).toMatchObject({ subscriptionStatus: "past_due", planActive: true });
    const failed = await stripe.events.list({ type: "invoice.payment_failed", limit: 100 });
    expect(failed.data.some((event) => JSON.stringify(event.data.object).includes(customerId))).toBe(true);
    // The test clock's renewal is within the grace (measured from the invoice's finalization): the new period's
    // budget, for the new period, and no more on a replayed sync.
    const after2 = await syncSubscriptionFromStripe(customerId);
    expect(after2).toMatchObject({ budgetReset: false });
    expect(await getBudgetStore().read(user.id)).toEqual({ tokensRemaining: plans.starter.tokenBudget, resetsAt: after.stripeCurrentPeriodEnd });
  });
});

describe("changes and cancellation", () => {
  it("switches plans: the price and plan change, the budget rises by the difference and does not refill", async () => {
    const { user, customerId } = await subscribedUser("starter");
    await spend(user.id, 50_000);
    const sub = await currentSubscription(customerId);
    const pro = await stripe.prices.list({ lookup_keys: [plans.pro.lookupKey] });
    await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id, price: pro.data[0]?.id }],
      proration_behavior: "create_prorations",
    });
    await harness.idle();
    expect(await userRow(user.id)).toMatchObject({ stripePriceId: pro.data[0]?.id, planId: "pro", planActive: true });
    expect((await getBudgetStore().read(user.id))?.tokensRemaining).toBe(plans.pro.tokenBudget - 50_000);
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((invoice) => invoice.billing_reason)).toContain("subscription_update");
  });

  it("a portal cancellation (flexible mode: cancel_at) sets plan_expires to the period end, then ends access", async () => {
    const { user, customerId, row } = await subscribedUser();
    const sub = await currentSubscription(customerId);
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.subscriptions.update(sub.id, { cancel_at: periodEnd });
    await harness.idle();
    const scheduled = await userRow(user.id);
    expect(scheduled.planExpires?.getTime()).toBe(periodEnd * 1000);
    expect(scheduled.cancelAt?.getTime()).toBe(periodEnd * 1000);
    expect(scheduled.planActive).toBe(true);

    await harness.advanceClock(customerId, new Date(row.stripeCurrentPeriodEnd!.getTime() + DAY));
    await harness.idle();
    const ended = await userRow(user.id);
    expect(ended).toMatchObject({ planActive: false, subscriptionStatus: "canceled", cancelAt: null });
    expect((await getChatEntitlement(user.id)).active).toBe(false);
  });

  it("an immediate cancellation (subscription deleted) ends access at once", async () => {
    const { user, customerId } = await subscribedUser();
    const sub = await currentSubscription(customerId);
    const canceled = await stripe.subscriptions.cancel(sub.id);
    await harness.idle();
    const row = await userRow(user.id);
    expect(row).toMatchObject({ planActive: false, subscriptionStatus: "canceled" });
    expect(row.planExpires?.getTime()).toBe((canceled.ended_at ?? 0) * 1000);
    expect(await getChatEntitlement(user.id)).toMatchObject({ active: false });
  });
});

describe("any delivery order", () => {
  it("converges on Stripe's state when every event arrives three times in shuffled order", async () => {
    await harness.faults({ duplicate: 3, shuffle: true });
    let customerId: string;
    let userId: string;
    try {
      const bought = await subscribedUser("starter");
      customerId = bought.customerId;
      userId = bought.user.id;
      const sub = await currentSubscription(customerId);
      const pro = await stripe.prices.list({ lookup_keys: [plans.pro.lookupKey] });
      await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]?.id, price: pro.data[0]?.id }] });
      await harness.advanceClock(customerId, new Date(bought.row.stripeCurrentPeriodEnd!.getTime() + DAY));
      await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
      await harness.idle();
    } finally {
      await harness.faults({});
    }
    const truth = await currentSubscription(customerId);
    const { planExpires, ...expected } = subscriptionState(truth, 86_400);
    const row = await userRow(userId);
    expect(row).toMatchObject(expected);
    expect(row.planExpires?.getTime()).toBe(planExpires?.getTime());
    expect(await getBudgetStore().read(userId)).toMatchObject({ tokensRemaining: plans.pro.tokenBudget });
  });
});

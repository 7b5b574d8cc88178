// Yearly plans and trials end to end: the real sandbox (through the official client), the real webhook route, the
// app's own budget store (in-process, or Upstash through the bridge in front of a real Redis when REDIS_URL is set),
// and the chat's real reserve path. A yearly plan bills once and refills every month from its billing anchor with no
// invoice (the app's clock is injected, never slept on); a trial grants its own budget, the first paid invoice the
// plan's, once under shuffled triple deliveries; a trial ending unpaid ends access; nobody gets a second trial.
import type Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";

// Trials on (the integration setup turns them off for every other file).
process.env.STRIPE_NO_TRIALS = "0";
// The app's store is picked from the environment when it loads: point it at the bridge first.
const fixture: BridgeFixture | null = redisUrl ? await startBridgeFixture([]) : null;
if (fixture) {
  process.env.UPSTASH_REDIS_REST_URL = fixture.bridge.url;
  process.env.UPSTASH_REDIS_REST_TOKEN = fixture.token;
}
const { startStripeHarness } = await import("../../support/stripe-harness");
const { loadApp } = await import("../../support/load-app");
const harness = await startStripeHarness();
const app = await loadApp();
const { getDb, findUserById, signUp, ensureStripeCustomer, createCheckoutSession, plans, getBudgetStore, getChatEntitlement, getBillingStatus, startChat, errorResponse } = app;
const { createDemoModel } = await import("@/server/chat/demo-model");
const { checkoutInput } = await import("@/server/billing/checkout");
const { budgetKey } = await import("@/server/usage");
const { stripe } = harness;

const DAY = 24 * 60 * 60 * 1000;
const users: string[] = [];
afterAll(async () => {
  for (const userId of users) await getBudgetStore().forget(userId);
  await fixture?.close();
});

let counter = 0;
async function newUser() {
  const user = await signUp({ email: `yearly-trial${++counter}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  users.push(user.id);
  const customerId = await ensureStripeCustomer(user.id);
  return { userId: user.id, customerId };
}

async function buy(userId: string, plan: "starter" | "pro", interval: "month" | "year", card?: string) {
  const checkout = await createCheckoutSession(userId, { plan, interval });
  expect(checkout.kind).toBe("checkout");
  await harness.completeCheckout(checkout.url, card);
  await harness.idle();
}

async function userRow(userId: string) {
  const row = await findUserById(await getDb(), userId);
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

async function liveSubscription(customerId: string): Promise<Stripe.Subscription> {
  const sub = await harness.currentSubscription(customerId);
  if (!sub) throw new Error("no subscription");
  return sub;
}

async function spend(userId: string, tokens: number) {
  const store = getBudgetStore();
  const requestId = `spend-${Math.random()}`;
  expect((await store.reserve(userId, requestId, tokens)).ok).toBe(true);
  await store.settle(userId, requestId, tokens);
}

/** One chat answer through the real reserve path, with the billing entitlement read at `now` (the app's clock). */
async function chatAt(userId: string, now: Date): Promise<number> {
  const request = new Request("http://app/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ id: "m", role: "user", parts: [{ type: "text", text: "hello" }] }] }),
  });
  const response = await startChat(request, { userId }, {
    model: createDemoModel({ delayMs: 0 }),
    getEntitlement: (id) => getChatEntitlement(id, { now }),
    restoreBudget: async () => {},
  }).catch((error: unknown) => errorResponse(error));
  await response.text();
  return response.status;
}

/** Where the store says the budget expires: the marker, and in Redis the key's own expiry too. */
async function expectBudgetExpiresAt(userId: string, at: Date) {
  expect((await getBudgetStore().read(userId))?.resetsAt).toEqual(at);
  if (fixture) {
    const pttl = await fixture.redis.pttl(budgetKey(userId));
    expect(Math.abs(Date.now() + pttl - at.getTime())).toBeLessThan(5_000);
  }
}

/** Ends the customer's trial: the sandbox advances their test clock to it. */
const endTrial = (customerId: string) => harness.endTrial(customerId);

const addMonth = (date: Date, months = 1) => {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
};

describe("checkout input", () => {
  it("takes an interval, monthly by default, and refuses any other with a clear message", () => {
    expect(checkoutInput.parse({ plan: "pro" })).toEqual({ plan: "pro", interval: "month" });
    expect(checkoutInput.parse({ plan: "pro", interval: "year" })).toEqual({ plan: "pro", interval: "year" });
    const bad = checkoutInput.safeParse({ plan: "pro", interval: "weekly" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe("Choose a billing interval: month or year.");
  });
});

describe("a yearly plan", () => {
  it("buys the yearly price, maps it back to its plan, and grants the plan's budget for the first month", async () => {
    const { userId, customerId } = await newUser();
    await buy(userId, "pro", "year");
    const sub = await liveSubscription(customerId);
    const item = sub.items.data[0];
    expect(item?.price.lookup_key).toBe(plans.pro.yearlyLookupKey);
    expect(item?.price.unit_amount).toBe(plans.pro.yearlyAmountCents);
    const row = await userRow(userId);
    const anchor = new Date(sub.billing_cycle_anchor * 1000);
    expect(row).toMatchObject({ planId: "pro", planActive: true, billingInterval: "year", billingAnchor: anchor });
    expect(row.stripeCurrentPeriodEnd).toEqual(addMonth(anchor, 12));
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.pro.tokenBudget, resetsAt: addMonth(anchor) });
    await expectBudgetExpiresAt(userId, addMonth(anchor));
    expect(await getChatEntitlement(userId)).toMatchObject({ active: true, tokenBudget: plans.pro.tokenBudget, periodEndsAt: addMonth(anchor), refillsMonthly: true });
  });

  it("after its trial, refills to the plan's budget when the app's clock enters the next month, with no invoice, once per month", async () => {
    const { userId, customerId } = await newUser();
    // Starter's trial comes first on the yearly price too: the year, and its anchor, start when the trial ends.
    await buy(userId, "starter", "year");
    expect(await userRow(userId)).toMatchObject({ subscriptionStatus: "trialing", billingInterval: "year" });
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(plans.starter.trialTokenBudget);
    await endTrial(customerId);
    await harness.idle();
    const anchor = (await userRow(userId)).billingAnchor!;
    expect(anchor).toEqual(new Date((await liveSubscription(customerId)).trial_end! * 1000));
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.starter.tokenBudget, resetsAt: addMonth(anchor) });
    await spend(userId, 400_000);
    expect(await chatAt(userId, new Date(anchor.getTime() + DAY))).toBe(200);
    const firstMonth = (await getBudgetStore().read(userId))!.tokensRemaining;
    expect(firstMonth).toBeLessThan(plans.starter.tokenBudget - 400_000);

    // A month and a day later: the window of the second month begins with the full budget.
    const secondMonth = new Date(addMonth(anchor).getTime() + DAY);
    expect(await chatAt(userId, secondMonth)).toBe(200);
    const afterRefill = (await getBudgetStore().read(userId))!;
    expect(afterRefill.tokensRemaining).toBeGreaterThan(plans.starter.tokenBudget - 1_000);
    expect(afterRefill.tokensRemaining).toBeLessThan(plans.starter.tokenBudget);
    await expectBudgetExpiresAt(userId, addMonth(anchor, 2));
    // A second chat in the same month spends from it; nothing refills again.
    expect(await chatAt(userId, new Date(secondMonth.getTime() + DAY))).toBe(200);
    expect((await getBudgetStore().read(userId))!.tokensRemaining).toBeLessThan(afterRefill.tokensRemaining);

    const sub = await liveSubscription(customerId);
    // The trial's $0 invoice and the year's: nothing for the new month.
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((invoice) => [invoice.billing_reason, invoice.amount_paid])).toEqual([
      ["subscription_cycle", plans.starter.yearlyAmountCents],
      ["subscription_create", 0],
    ]);
  });

  it("anchored on January 31st, refills on February 28th, then March 31st (Stripe's clamp)", async () => {
    const { userId, customerId } = await newUser();
    // Bought on January 24th at noon: the 7-day trial ends, and the year is anchored, on January 31st at noon.
    const anchor = new Date("2027-01-31T12:00:00Z");
    await harness.advanceClock(customerId, new Date(anchor.getTime() - 7 * DAY));
    await buy(userId, "starter", "year");
    await endTrial(customerId);
    await harness.idle();
    const row = await userRow(userId);
    expect(row.billingAnchor).toEqual(anchor);
    expect(row.stripeCurrentPeriodEnd).toEqual(new Date("2028-01-31T12:00:00Z"));
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.starter.tokenBudget, resetsAt: new Date("2027-02-28T12:00:00Z") });

    await spend(userId, 500_000);
    // Still January's window on Feb 28 before noon: no refill.
    expect(await chatAt(userId, new Date("2027-02-28T11:00:00Z"))).toBe(200);
    expect((await getBudgetStore().read(userId))!.tokensRemaining).toBeLessThan(plans.starter.tokenBudget - 500_000);
    // From Feb 28 noon: February's window, to March 31st.
    expect(await chatAt(userId, new Date("2027-02-28T12:00:00Z"))).toBe(200);
    expect((await getBudgetStore().read(userId))!.tokensRemaining).toBeGreaterThan(plans.starter.tokenBudget - 1_000);
    await expectBudgetExpiresAt(userId, new Date("2027-03-31T12:00:00Z"));
    await spend(userId, 500_000);
    expect(await chatAt(userId, new Date("2027-03-31T12:00:01Z"))).toBe(200);
    expect((await getBudgetStore().read(userId))!.tokensRemaining).toBeGreaterThan(plans.starter.tokenBudget - 1_000);
    await expectBudgetExpiresAt(userId, new Date("2027-04-30T12:00:00Z"));
    // The account shows the window: the plan's budget, resetting at its end.
    const status = await getBillingStatus(userId, { now: new Date("2027-04-01T00:00:00Z") });
    expect(status.budget?.tokenBudget).toBe(plans.starter.tokenBudget);
    expect(status.budget?.resetsAt).toEqual(new Date("2027-04-30T12:00:00Z"));
  });

  it("follows the customer's test clock: a month on, the account reads the new month full and the next chat starts it", async () => {
    const { userId, customerId } = await newUser();
    await buy(userId, "pro", "year");
    const anchor = (await userRow(userId)).billingAnchor!;
    await spend(userId, 2_000_000);
    // The wall clock stays in the first month; the customer's test clock moves a month and a day on.
    const clockTime = new Date(addMonth(anchor).getTime() + DAY);
    await harness.advanceClock(customerId, clockTime);
    await harness.idle();
    expect((await userRow(userId)).stripeTestClockTime).toEqual(clockTime);
    const status = await getBillingStatus(userId);
    expect(status.budget).toMatchObject({ tokenBudget: plans.pro.tokenBudget, tokensRemaining: plans.pro.tokenBudget, resetsAt: addMonth(anchor, 2) });
    expect(await getChatEntitlement(userId)).toMatchObject({ periodEndsAt: addMonth(anchor, 2), refillsMonthly: true });

    expect(await chatAt(userId, new Date())).toBe(200);
    const afterRefill = (await getBudgetStore().read(userId))!;
    expect(afterRefill.tokensRemaining).toBeGreaterThan(plans.pro.tokenBudget - 1_000);
    expect(afterRefill.tokensRemaining).toBeLessThan(plans.pro.tokenBudget);
    await expectBudgetExpiresAt(userId, addMonth(anchor, 2));
    const invoices = await stripe.invoices.list({ customer: customerId });
    expect(invoices.data.map((invoice) => invoice.billing_reason)).toEqual(["subscription_create"]);
  });

  it("keeps the latest clock time whatever order its ready events come in, replayed x3", async () => {
    const { userId, customerId } = await newUser();
    await buy(userId, "pro", "year");
    const anchor = (await userRow(userId)).billingAnchor!;
    const since = Math.floor(Date.now() / 1000) - 1;
    const times = [1, 2, 3].map((months) => new Date(addMonth(anchor, months).getTime() + DAY));
    for (const time of times) await harness.advanceClock(customerId, time);
    await harness.idle();
    const customer = await stripe.customers.retrieve(customerId);
    if (customer.deleted) throw new Error("customer deleted");
    const ready: Stripe.Event[] = [];
    for await (const event of stripe.events.list({ limit: 100, type: "test_helpers.test_clock.ready", created: { gte: since } })) {
      if ((event.data.object as Stripe.TestHelpers.TestClock).id === customer.test_clock) ready.push(event);
    }
    expect(ready).toHaveLength(3);
    // Newest first (as listed), three rounds: each ends with the oldest. Each copy has a new event id, so each is
    // processed; none may move the time back.
    const deliveries = [...ready, ...ready, ...ready];
    for (const [copy, event] of deliveries.entries()) await deliver(event, `copy${copy}`);
    expect((await userRow(userId)).stripeTestClockTime).toEqual(times[2]);
    expect(await getChatEntitlement(userId)).toMatchObject({ periodEndsAt: addMonth(anchor, 4) });
  });

  it("gives a monthly plan no monthly window: its budget is the period's, from the invoice", async () => {
    const { userId } = await newUser();
    await buy(userId, "pro", "month");
    const row = await userRow(userId);
    expect(row).toMatchObject({ billingInterval: "month" });
    const entitlement = await getChatEntitlement(userId);
    expect(entitlement.periodEndsAt).toEqual(row.stripeCurrentPeriodEnd);
    expect(entitlement.refillsMonthly ?? false).toBe(false);
    await spend(userId, 1_000);
    // The app's clock a month on changes nothing without the renewal invoice.
    expect(await chatAt(userId, new Date(Date.now() + 20 * DAY))).toBe(200);
    expect((await getBudgetStore().read(userId))!.tokensRemaining).toBeLessThan(plans.pro.tokenBudget - 1_000);
  });
});

/** The customer's events created since `since` (unix seconds), oldest first. */
async function eventsOf(customerId: string, since: number): Promise<Stripe.Event[]> {
  const events: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100, created: { gte: since } })) events.push(event);
  return events.filter((event) => JSON.stringify(event.data.object).includes(customerId)).reverse();
}

async function deliver(event: Stripe.Event, copy: string) {
  const payload = JSON.stringify({ ...event, id: `${event.id}_${copy}` });
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
  const response = await harness.postWebhook(
    new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }),
  );
  expect(response.status).toBe(200);
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}


describe("a switch from monthly to yearly", () => {
  /** A Pro monthly subscriber ten days into the month, with most of the month's budget spent. */
  async function monthlyProTenDaysIn() {
    const { userId, customerId } = await newUser();
    await buy(userId, "pro", "month");
    await spend(userId, 3_000_000);
    const monthly = await liveSubscription(customerId);
    await harness.advanceClock(customerId, new Date((monthly.items.data[0]!.current_period_start + 10 * 86_400) * 1000));
    await harness.idle();
    const yearlyPrice = (await stripe.prices.list({ lookup_keys: [plans.pro.yearlyLookupKey!] })).data[0]!;
    const switchToYearly = () =>
      stripe.subscriptions.update(monthly.id, {
        items: [{ id: monthly.items.data[0]!.id, price: yearlyPrice.id }],
        proration_behavior: "create_prorations",
      });
    return { userId, customerId, monthly, switchToYearly };
  }

  it("starts the paid year at once: the first month's full budget, once under replays x3 shuffled; the windows follow the new anchor", async () => {
    const { userId, customerId, monthly, switchToYearly } = await monthlyProTenDaysIn();
    await harness.faults({ duplicate: 3, shuffle: true });
    try {
      await switchToYearly();
      await harness.idle();
    } finally {
      await harness.faults({});
    }
    const yearly = await liveSubscription(customerId);
    const anchor = new Date(yearly.billing_cycle_anchor * 1000);
    expect(anchor.getTime()).toBe((monthly.items.data[0]!.current_period_start + 10 * 86_400) * 1000);
    const invoice = (await stripe.invoices.list({ subscription: yearly.id, limit: 1 })).data[0]!;
    expect([invoice.billing_reason, invoice.status]).toEqual(["subscription_update", "paid"]);
    // The year costs its price less the unused twenty days of the month.
    expect(invoice.amount_paid).toBeLessThan(plans.pro.yearlyAmountCents);
    expect(await userRow(userId)).toMatchObject({ billingInterval: "year", billingAnchor: anchor, stripeCurrentPeriodEnd: addMonth(anchor, 12), budgetRefilledFor: addMonth(anchor, 12) });
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.pro.tokenBudget, resetsAt: addMonth(anchor) });
    expect(await getChatEntitlement(userId)).toMatchObject({ periodEndsAt: addMonth(anchor), refillsMonthly: true });

    // Every event of the customer again, three times, shuffled: nothing refills a second time.
    await spend(userId, 1_000);
    const events = (await eventsOf(customerId, 0)).filter((event) => event.type !== "test_helpers.test_clock.ready");
    for (const [copy, event] of shuffled([...events, ...events, ...events]).entries()) await deliver(event, `replay${copy}`);
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(plans.pro.tokenBudget - 1_000);
  });

  it("refills nothing while the switch's invoice is unpaid", async () => {
    const { userId, customerId, monthly, switchToYearly } = await monthlyProTenDaysIn();
    const declining = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customerId });
    await stripe.subscriptions.update(monthly.id, { default_payment_method: declining.id });
    await switchToYearly();
    await harness.idle();
    const invoice = (await stripe.invoices.list({ customer: customerId, limit: 1 })).data[0]!;
    expect([invoice.billing_reason, invoice.status]).toEqual(["subscription_update", "open"]);
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(plans.pro.tokenBudget - 3_000_000);
  });
});

describe("one trial per address", () => {
  /** Subscribes through Checkout; answers the status the subscription starts in (trialing, or active when paid now). */
  const subscribedAs = async (userId: string) => {
    await buy(userId, "starter", "month");
    return (await userRow(userId)).subscriptionStatus;
  };
  const signUpAs = async (email: string) => {
    const user = await signUp({ email, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    users.push(user.id);
    await ensureStripeCustomer(user.id);
    return user.id;
  };

  it("gives no second trial to the same address in a new account (after deleting the first) or as a +tag of it", async () => {
    const local = `once${Date.now()}`;
    const first = await signUpAs(`${local}@example.com`);
    expect((await getBillingStatus(first)).trialAvailable).toBe(true);
    expect(await subscribedAs(first)).toBe("trialing");
    expect((await getBillingStatus(first)).trialAvailable).toBe(false);

    // Another account on a +tag of the address, while the first still exists: pays at once.
    const tagged = await signUpAs(`${local}+again@Example.com`);
    expect((await getBillingStatus(tagged)).trialAvailable).toBe(false);
    expect(await subscribedAs(tagged)).toBe("active");

    // The first account deleted, the address signed up afresh: no trial either.
    await app.deleteAccount(first);
    const again = await signUpAs(`${local}@example.com`);
    expect((await getBillingStatus(again)).trialAvailable).toBe(false);
    expect(await subscribedAs(again)).toBe("active");
    // Another address still gets one.
    const other = await signUpAs(`other${Date.now()}@example.com`);
    expect((await getBillingStatus(other)).trialAvailable).toBe(true);
    expect(await subscribedAs(other)).toBe("trialing");
  });

  it("remembers an address that only ever paid, once its account is deleted", async () => {
    const email = `paid${Date.now()}@example.com`;
    const first = await signUpAs(email);
    await buy(first, "pro", "month");
    expect((await userRow(first)).subscriptionStatus).toBe("active");
    await app.deleteAccount(first);
    const again = await signUpAs(email);
    expect((await getBillingStatus(again)).trialAvailable).toBe(false);
    expect(await subscribedAs(again)).toBe("active");
  });
});

describe("a trial", () => {
  it("grants the trial budget; the first paid invoice refills to the full budget once, under replays x3 shuffled", async () => {
    const { userId, customerId } = await newUser();
    await buy(userId, "starter", "month");
    const trialing = await liveSubscription(customerId);
    expect(trialing.status).toBe("trialing");
    expect(trialing.trial_end! - trialing.trial_start!).toBe(plans.starter.trialDays * 86_400);
    const row = await userRow(userId);
    expect(row).toMatchObject({ subscriptionStatus: "trialing", planActive: true, trialEndsAt: new Date(trialing.trial_end! * 1000) });
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.starter.trialTokenBudget, resetsAt: new Date(trialing.trial_end! * 1000) });
    expect(await getChatEntitlement(userId)).toMatchObject({ active: true, tokenBudget: 100_000 });
    const status = await getBillingStatus(userId);
    expect(status).toMatchObject({ trialEndsAt: new Date(trialing.trial_end! * 1000), budget: { tokenBudget: 100_000, tokensRemaining: 100_000 } });
    await spend(userId, 30_000);
    // Alerts measure the trial's own budget: 30% of it used is no alert, 85% is the 80% one.
    expect(await app.enqueueBudgetAlert(userId, 70_000)).toBeNull();
    expect(await app.enqueueBudgetAlert(userId, 15_000)).toBe(80);

    const since = Math.floor(Date.now() / 1000) - 1;
    await harness.faults({ pauseDeliveries: true });
    let events: Stripe.Event[];
    try {
      await endTrial(customerId);
      events = await eventsOf(customerId, since);
      const paid = events
        .filter((event) => event.type === "invoice.paid")
        .map((event) => event.data.object as Stripe.Invoice)
        .find((invoice) => invoice.billing_reason === "subscription_cycle");
      expect(paid).toMatchObject({ amount_paid: plans.starter.amountCents });
      const deliveries = shuffled(events.flatMap((event) => [1, 2, 3].map((copy) => ({ event, copy }))));
      for (const { event, copy } of deliveries) await deliver(event, `x${copy}`);
    } finally {
      await harness.faults({});
    }
    await harness.idle();
    const converted = await userRow(userId);
    expect(converted).toMatchObject({ subscriptionStatus: "active", planActive: true });
    expect(await getBudgetStore().read(userId)).toEqual({ tokensRemaining: plans.starter.tokenBudget, resetsAt: converted.stripeCurrentPeriodEnd });

    // Spent after the refill, then every event again in another order: still once.
    await spend(userId, 10_000);
    for (const { event, copy } of shuffled(events.flatMap((event) => [4, 5, 6].map((copy) => ({ event, copy }))))) await deliver(event, `x${copy}`);
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(plans.starter.tokenBudget - 10_000);
  });

  it("ending unpaid ends access: past due with nothing ever paid grants no chat, and the retries end it", async () => {
    const { userId, customerId } = await newUser();
    await buy(userId, "starter", "month");
    const sub = await liveSubscription(customerId);
    const failing = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customerId });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    await endTrial(customerId);
    await harness.idle();
    expect(await userRow(userId)).toMatchObject({ subscriptionStatus: "past_due", planActive: false });
    expect(await getChatEntitlement(userId)).toMatchObject({ active: false });
    expect(await chatAt(userId, new Date())).toBe(402);

    await harness.advanceClock(customerId, new Date((sub.trial_end! + 20 * 86_400) * 1000));
    await harness.idle();
    expect(await userRow(userId)).toMatchObject({ subscriptionStatus: "canceled", planActive: false });
    expect(await chatAt(userId, new Date())).toBe(402);
  });

  it("is not given twice: a returning customer pays from the first day", async () => {
    const { userId, customerId } = await newUser();
    await buy(userId, "starter", "month");
    const first = await liveSubscription(customerId);
    expect(first.status).toBe("trialing");
    await stripe.subscriptions.cancel(first.id);
    await harness.idle();
    expect(await userRow(userId)).toMatchObject({ planActive: false });

    await buy(userId, "starter", "month");
    const second = await liveSubscription(customerId);
    expect(second.id).not.toBe(first.id);
    expect(second.status).toBe("active");
    expect(second.trial_end).toBeNull();
    const invoice = await stripe.invoices.retrieve(String(second.latest_invoice));
    expect(invoice).toMatchObject({ billing_reason: "subscription_create", amount_paid: plans.starter.amountCents });
    expect(await getBudgetStore().read(userId)).toMatchObject({ tokensRemaining: plans.starter.tokenBudget });
  });

  it("is offered only by plans that declare one", async () => {
    const { userId, customerId } = await newUser();
    await buy(userId, "pro", "month");
    expect((await liveSubscription(customerId)).status).toBe("active");
  });
});

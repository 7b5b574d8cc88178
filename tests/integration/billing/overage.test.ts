// Metered overage end to end (BILLING_OVERAGE=1): the real sandbox through the official client, the real webhook
// route, the app's own budget and overage stores (in-process, or Upstash through the bridge in front of a real Redis
// when REDIS_URL is set), the chat's real reserve and settle path, the Postgres meter outbox and its deliverer.
// Past the budget an answer is funded from overage up to the user's cap; each such answer is one meter event keyed by
// its request id (resent three times, billed once); the renewal invoice equals the plan plus the overage exactly.
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it, vi } from "vitest";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";

process.env.BILLING_OVERAGE = "1";
// A small budget, so a few answers spend it.
process.env.CHAT_TOKEN_BUDGET = "2000";
const fixture: BridgeFixture | null = redisUrl ? await startBridgeFixture([]) : null;
if (fixture) {
  process.env.UPSTASH_REDIS_REST_URL = fixture.bridge.url;
  process.env.UPSTASH_REDIS_REST_TOKEN = fixture.token;
}
const { startStripeHarness } = await import("../../support/stripe-harness");
const { loadApp } = await import("../../support/load-app");
const harness = await startStripeHarness();
const app = await loadApp();
const { getDb, findUserById, signUp, ensureStripeCustomer, createCheckoutSession, plans, getBudgetStore, getChatEntitlement, startChat, errorResponse, createCaller } = app;
const { createDemoModel } = await import("@/server/chat/demo-model");
const { databaseChatOverage } = await import("@/server/chat/overage");
const { deliverDueMeterEvents } = await import("@/server/billing/meter-events");
const { listMeterEvents } = await import("@/db/queries/overage");
const { meterEventOutbox } = await import("@/db/schema");
const { setupStripe } = await import("@/server/billing/setup-stripe");
const { subscriptionState } = await import("@/server/billing/sync-subscription");
const { OVERAGE_METER_EVENT, capTokensFor, overageCents } = await import("@/server/billing/overage");
const { overageCapInput } = await import("@/server/billing/overage-cap");
const { getOverageStore } = await import("@/server/usage");
const { chatMessageMetadataSchema } = await import("@/lib/chat-wire");
const { stripe } = harness;

const users: string[] = [];
afterAll(async () => {
  for (const userId of users) await getBudgetStore().forget(userId);
  await fixture?.close();
});

let counter = 0;
async function subscriber(plan: "starter" | "pro" = "starter", interval: "month" | "year" = "month") {
  const user = await signUp({ email: `overage${++counter}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  users.push(user.id);
  const customerId = await ensureStripeCustomer(user.id);
  const checkout = await createCheckoutSession(user.id, { plan, interval });
  await harness.completeCheckout(checkout.url);
  await harness.idle();
  return { userId: user.id, customerId, caller: createCaller({ db: await getDb(), userId: user.id }) };
}

/** Spends the period's budget through the store down to `leave` tokens, as earlier answers would have. */
async function exhaustBudget(userId: string, leave = 0) {
  const store = getBudgetStore();
  const left = (await store.read(userId))?.tokensRemaining ?? 0;
  const requestId = `spend-${Math.random()}`;
  await store.reserve(userId, requestId, left - leave);
  await store.settle(userId, requestId, left - leave);
  expect((await store.read(userId))?.tokensRemaining).toBe(leave);
}

interface Answer {
  status: number;
  body: string;
  metadata: ReturnType<typeof chatMessageMetadataSchema.parse> | null;
}

/** One answer through the real chat path; `overage: null` is the chat with overage off. */
async function chat(userId: string, options: { overage?: null; requestId?: string } = {}): Promise<Answer> {
  const request = new Request("http://app/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ id: "m", role: "user", parts: [{ type: "text", text: "Tell me about hourglasses." }] }] }),
  });
  const response = await startChat(request, { userId }, {
    model: createDemoModel({ delayMs: 0 }),
    getEntitlement: (id) => getChatEntitlement(id),
    restoreBudget: async () => {},
    maxOutputTokens: 200,
    ...(options.requestId ? { newRequestId: () => options.requestId ?? "" } : {}),
    ...(options.overage === null ? { overage: null } : {}),
  }).catch((error: unknown) => errorResponse(error));
  const body = await response.text();
  const finish = body
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line.includes('"type":"finish"'))
    .map((line) => JSON.parse(line.slice(6)) as { messageMetadata?: unknown })[0];
  return { status: response.status, body, metadata: finish?.messageMetadata ? chatMessageMetadataSchema.parse(finish.messageMetadata) : null };
}

async function periodEnd(userId: string): Promise<Date> {
  const row = await findUserById(await getDb(), userId);
  if (!row?.stripeCurrentPeriodEnd) throw new Error("no period");
  return row.stripeCurrentPeriodEnd;
}

describe("stripe:setup with overage on", () => {
  it("creates one sum meter by customer id and a monthly metered price per plan, idempotently", async () => {
    const first = await setupStripe(stripe, { overage: true });
    const again = await setupStripe(stripe, { overage: true });
    expect(again.overage?.meterId).toBe(first.overage?.meterId);
    expect(again.overage?.prices.every((price) => !price.created)).toBe(true);
    const meters = (await stripe.billing.meters.list()).data.filter((meter) => meter.event_name === OVERAGE_METER_EVENT);
    expect(meters).toHaveLength(1);
    expect(meters[0]).toMatchObject({ default_aggregation: { formula: "sum" }, customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" }, value_settings: { event_payload_key: "value" } });
    for (const plan of [plans.starter, plans.pro]) {
      const [price] = (await stripe.prices.list({ lookup_keys: [plan.overage.lookupKey] })).data;
      expect(price).toMatchObject({ unit_amount: plan.overage.centsPer1000Tokens, transform_quantity: { divide_by: 1000, round: "up" }, recurring: { interval: "month", usage_type: "metered", meter: meters[0]?.id } });
    }
  });
});

describe("stripe:setup's portal", () => {
  it("charges an upgrade's prorated difference at once and moves a downgrade to the period end", async () => {
    const { portalConfigurationId } = await setupStripe(stripe, { overage: true });
    const configuration = await stripe.billingPortal.configurations.retrieve(portalConfigurationId);
    expect(configuration.features.subscription_update).toMatchObject({
      enabled: true,
      proration_behavior: "always_invoice",
      schedule_at_period_end: { conditions: [{ type: "decreasing_item_amount" }] },
    });
  });
});

describe("checkout and sync", () => {
  it("subscribes a monthly plan with the metered price as a second item; the sync reads the licensed one in any order", async () => {
    const { userId, customerId } = await subscriber();
    const sub = await harness.currentSubscription(customerId);
    expect(sub?.items.data.map((item) => item.price.lookup_key)).toEqual([plans.starter.lookupKey, plans.starter.overage.lookupKey]);
    const row = await findUserById(await getDb(), userId);
    expect(row).toMatchObject({ planId: "starter", stripePriceId: sub?.items.data[0]?.price.id, stripeOverageLookupKey: plans.starter.overage.lookupKey, overageCapCents: 0 });
    if (!sub) throw new Error("no subscription");
    const reversed = { ...sub, items: { ...sub.items, data: [...sub.items.data].reverse() } };
    expect(subscriptionState(reversed, 0)).toMatchObject({ planId: "starter", stripePriceId: sub.items.data[0]?.price.id, billingInterval: "month" });
  });

  it("leaves overage off a yearly plan (one interval per subscription) and refuses it a cap", async () => {
    const { userId, customerId, caller } = await subscriber("starter", "year");
    const sub = await harness.currentSubscription(customerId);
    expect(sub?.items.data).toHaveLength(1);
    expect((await findUserById(await getDb(), userId))?.stripeOverageLookupKey).toBeNull();
    expect(await caller.account.overage()).toBeNull();
    await expect(caller.account.setOverageCap({ capCents: 500 })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("a subscription started before overage was on", () => {
  it("has no metered item, so it gets no overage: no cap, and 429 at the budget", async () => {
    const user = await signUp({ email: `overage-before-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    users.push(user.id);
    const customer = await ensureStripeCustomer(user.id);
    const [price] = (await stripe.prices.list({ lookup_keys: [plans.starter.lookupKey] })).data;
    await stripe.subscriptions.create({ customer, items: [{ price: price?.id ?? "" }], default_payment_method: "pm_card_visa", metadata: { userId: user.id } });
    await harness.idle();
    const row = await findUserById(await getDb(), user.id);
    expect(row).toMatchObject({ planId: "starter", planActive: true, stripeOverageLookupKey: null });
    const caller = createCaller({ db: await getDb(), userId: user.id });
    expect(await caller.account.overage()).toBeNull();
    await expect(caller.account.setOverageCap({ capCents: 500 })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await exhaustBudget(user.id);
    expect((await chat(user.id)).status).toBe(429);
  });
});

describe("a trial", () => {
  it("gets no overage until its first paid period: the cap can be set, chat stops at the trial's tokens, nothing is metered", async () => {
    const user = await signUp({ email: `overage-trial-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    users.push(user.id);
    const customerId = await ensureStripeCustomer(user.id);
    const prices = (await stripe.prices.list({ lookup_keys: [plans.starter.lookupKey, plans.starter.overage.lookupKey] })).data;
    const licensed = prices.find((price) => price.lookup_key === plans.starter.lookupKey);
    const metered = prices.find((price) => price.lookup_key === plans.starter.overage.lookupKey);
    if (!licensed || !metered) throw new Error("run stripe:setup with overage first");
    await stripe.subscriptions.create({
      customer: customerId,
      items: [{ price: licensed.id }, { price: metered.id }],
      trial_period_days: plans.starter.trialDays || 7,
      default_payment_method: "pm_card_visa",
      metadata: { userId: user.id },
    });
    await harness.idle();
    expect(await findUserById(await getDb(), user.id)).toMatchObject({ subscriptionStatus: "trialing", stripeOverageLookupKey: plans.starter.overage.lookupKey });
    const caller = createCaller({ db: await getDb(), userId: user.id });
    expect(await caller.account.setOverageCap({ capCents: 500 })).toMatchObject({ capCents: 500, inTrial: true });
    await exhaustBudget(user.id);
    const refused = await chat(user.id);
    expect(refused.status).toBe(429);
    expect(refused.body).toContain("used all the tokens");
    expect(await listMeterEvents(await getDb(), user.id)).toEqual([]);

    // The trial ends and its first invoice is paid: the same cap now funds answers past the budget.
    await harness.endTrial(customerId);
    await harness.idle();
    expect(await caller.account.overage()).toMatchObject({ capCents: 500, inTrial: false });
    await exhaustBudget(user.id);
    const funded = await chat(user.id);
    expect(funded.status).toBe(200);
    expect(funded.metadata?.overageTokens).toBeGreaterThan(0);
    expect(await listMeterEvents(await getDb(), user.id)).toHaveLength(1);
    // Sent now, so later tests count only their own events.
    expect(await deliverDueMeterEvents({ db: await getDb(), stripe })).toEqual({ sent: 1, retrying: 0, failed: 0 });
  });
});

describe("deleting the account", () => {
  /** An answer's overage in the outbox, not sent yet (the deliverer has not run), as the chat's settle leaves it. */
  async function unsentOverage(userId: string, customerId: string, tokens: number) {
    await databaseChatOverage().report({ requestId: `delete-${crypto.randomUUID()}`, userId, stripeCustomerId: customerId, tokens, occurredAt: new Date() });
    expect((await listMeterEvents(await getDb(), userId)).filter((event) => event.sentAt === null)).toHaveLength(1);
  }

  /** A month's subscriber 29 days in: one day of the plan left unused. */
  async function lateInThePeriod() {
    const { userId, customerId } = await subscriber();
    const end = await periodEnd(userId);
    await harness.advanceClock(customerId, new Date(end.getTime() - 86_400_000));
    await harness.idle();
    return { userId, customerId };
  }

  it("bills the overage not yet sent on a final invoice (less the unused day), charged before the customer is deleted", async () => {
    const { userId, customerId } = await lateInThePeriod();
    const sub = await harness.currentSubscription(customerId);
    // 100,000 tokens at $0.02 per 1,000: $2.00.
    await unsentOverage(userId, customerId, 100_000);
    await app.deleteAccount(userId);
    await harness.idle();
    const invoices = (await stripe.invoices.list({ customer: customerId, limit: 10 })).data;
    const final = invoices.find((invoice) => invoice.id !== sub?.latest_invoice);
    const usage = final?.lines.data.find((line) => line.quantity === 100_000);
    expect(usage?.amount).toBe(overageCents(plans.starter.overage, 100_000));
    const credit = final?.lines.data.find((line) => line.amount < 0);
    expect(credit?.amount).toBeLessThan(0);
    expect(final).toMatchObject({ status: "paid", total: 200 + (credit?.amount ?? 0) });
    // Paid, so nothing is owed: the customer is deleted as before.
    const gone = await stripe.customers.retrieve(customerId).then(
      (customer) => customer.deleted === true,
      (error: { code?: string }) => error.code === "resource_missing",
    );
    expect(gone).toBe(true);
    expect(await findUserById(await getDb(), userId)).toBeNull();
  });

  it("keeps the Stripe customer, scrubbed, when the final invoice's card is declined, so it can still be collected", async () => {
    const { userId, customerId } = await lateInThePeriod();
    const sub = await harness.currentSubscription(customerId);
    const failing = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customerId });
    await stripe.subscriptions.update(String(sub?.id), { default_payment_method: failing.id });
    await unsentOverage(userId, customerId, 100_000);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await app.deleteAccount(userId);
    } finally {
      warn.mockRestore();
    }
    const open = (await stripe.invoices.list({ customer: customerId, status: "open" })).data;
    expect(open).toHaveLength(1);
    expect(open[0]?.amount_remaining).toBeGreaterThan(0);
    const customer = await stripe.customers.retrieve(customerId);
    expect(customer.deleted).not.toBe(true);
    if (!customer.deleted) expect(customer).toMatchObject({ email: null, name: null });
    expect(await findUserById(await getDb(), userId)).toBeNull();
  });

  it("deletes nothing while Stripe cannot take the usage not sent yet", async () => {
    const { userId, customerId } = await subscriber();
    await unsentOverage(userId, customerId, 5_000);
    // Stripe answers the account's own reads, and refuses (500) every meter event: the usage cannot be reported.
    const refusing = new Proxy(stripe, {
      get(target, property, receiver) {
        if (property !== "billing") return Reflect.get(target, property, receiver);
        return { ...target.billing, meterEvents: { create: () => Promise.reject(new Error("Stripe is down")) } };
      },
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await expect(app.deleteAccount(userId, { stripe: refusing })).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    } finally {
      warn.mockRestore();
    }
    expect(await findUserById(await getDb(), userId)).toMatchObject({ id: userId });
    expect((await harness.currentSubscription(customerId))?.status).toBe("active");
  });
});

describe("the spending cap", () => {
  it("takes whole cents from 0 to $1,000 and says what is wrong otherwise", () => {
    expect(overageCapInput.parse({ capCents: 0 })).toEqual({ capCents: 0 });
    for (const [value, message] of [
      [-1, "cannot be negative"],
      [1.5, "whole cents"],
      [100_001, "at most $1000"],
      ["5", "in cents"],
    ] as const) {
      const result = overageCapInput.safeParse({ capCents: value });
      expect(result.error?.issues[0]?.message).toContain(message);
    }
  });

  it("is set through account.setOverageCap and read back by account.overage", async () => {
    const { caller } = await subscriber();
    const price = plans.starter.overage.centsPer1000Tokens;
    expect(await caller.account.overage()).toEqual({ capCents: 0, centsPer1000Tokens: price, capTokens: 0, usedTokens: 0, inTrial: false });
    expect(await caller.account.setOverageCap({ capCents: 250 })).toEqual({ capCents: 250, centsPer1000Tokens: price, capTokens: 125_000, usedTokens: 0, inTrial: false });
    expect(await caller.account.overage()).toEqual({ capCents: 250, centsPer1000Tokens: price, capTokens: 125_000, usedTokens: 0, inTrial: false });
    await expect(caller.account.setOverageCap({ capCents: -5 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("chat past the budget", () => {
  it("answers 429 as today with overage off, and with overage on but no cap", async () => {
    const { userId, caller } = await subscriber();
    await caller.account.setOverageCap({ capCents: 500 });
    await exhaustBudget(userId);
    const off = await chat(userId, { overage: null });
    expect(off.status).toBe(429);
    expect(off.body).toContain("used all the tokens");
    await caller.account.setOverageCap({ capCents: 0 });
    const noCap = await chat(userId);
    expect(noCap.status).toBe(429);
    expect(noCap.body).toContain("used all the tokens");
    expect(await listMeterEvents(await getDb(), userId)).toEqual([]);
  });

  it("continues up to the cap, reports each answer once, bills once under resends, and invoices plan + overage exactly", async () => {
    const { userId, customerId, caller } = await subscriber();
    // 4 cents at 2 cents per 1,000 tokens: 2,000 overage tokens.
    await caller.account.setOverageCap({ capCents: 4 });
    const capTokens = capTokensFor(plans.starter.overage, 4);
    expect(capTokens).toBe(2_000);
    await exhaustBudget(userId);

    const answers: Answer[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await chat(userId);
      answers.push(answer);
      if (answer.status !== 200) break;
    }
    const served = answers.filter((answer) => answer.status === 200);
    expect(served.length).toBeGreaterThan(1);
    const refused = answers.at(-1);
    expect(refused?.status).toBe(429);
    expect(refused?.body).toContain("reached your overage cap of $0.04");
    for (const answer of served) expect(answer.metadata).toMatchObject({ tokensRemaining: 0, overageCapTokens: capTokens, overageTokens: answer.metadata?.tokensUsed });

    const end = await periodEnd(userId);
    const used = await getOverageStore().read(userId, end);
    expect(used).toBeLessThanOrEqual(capTokens);
    expect(await caller.account.overage()).toMatchObject({ capTokens, usedTokens: used });
    const events = await listMeterEvents(await getDb(), userId);
    expect(events).toHaveLength(served.length);
    const overageTokens = events.reduce((sum, event) => sum + event.tokens, 0);
    expect(overageTokens).toBe(used);
    expect(overageCents(plans.starter.overage, overageTokens)).toBeLessThanOrEqual(4);

    // Delivered, then every row resent twice more (a crash before "sent" was recorded): Stripe counts each once.
    const db = await getDb();
    expect(await deliverDueMeterEvents({ db, stripe })).toEqual({ sent: events.length, retrying: 0, failed: 0 });
    for (let resend = 0; resend < 2; resend++) {
      await db.update(meterEventOutbox).set({ sentAt: null, nextAttemptAt: new Date(0) }).where(sql`${meterEventOutbox.userId} = ${userId}`);
      expect(await deliverDueMeterEvents({ db, stripe })).toEqual({ sent: events.length, retrying: 0, failed: 0 });
    }
    expect((await listMeterEvents(db, userId)).every((event) => event.sentAt !== null && event.attempts === 3)).toBe(true);

    await harness.advanceClock(customerId, new Date(end.getTime() + 60_000));
    await harness.idle();
    const [renewal] = (await stripe.invoices.list({ customer: customerId, limit: 1 })).data;
    expect(renewal?.billing_reason).toBe("subscription_cycle");
    const expectedOverage = overageCents(plans.starter.overage, overageTokens);
    expect(renewal?.total).toBe(plans.starter.amountCents + expectedOverage);
    const overageLine = renewal?.lines.data.find((line) => line.quantity === overageTokens && line.amount === expectedOverage);
    expect(overageLine).toBeDefined();
  });

  it("funds from overage an answer whose prompt the budget's last tokens cannot carry, and gives those back", async () => {
    const { userId, caller } = await subscriber();
    await caller.account.setOverageCap({ capCents: 100 });
    await exhaustBudget(userId, 5);
    const without = await chat(userId, { overage: null });
    expect(without.status).toBe(429);
    expect(without.body).toContain("more than your budget has left");
    const answer = await chat(userId);
    expect(answer.status).toBe(200);
    expect(answer.metadata).toMatchObject({ overageTokens: answer.metadata?.tokensUsed, tokensRemaining: 5 });
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(5);
    expect((await listMeterEvents(await getDb(), userId)).map((event) => event.tokens)).toEqual([answer.metadata?.tokensUsed]);
  });

  it("never lets parallel answers past the cap", async () => {
    const { userId, caller } = await subscriber();
    await caller.account.setOverageCap({ capCents: 2 });
    await exhaustBudget(userId);
    const answers = await Promise.all(Array.from({ length: 20 }, () => chat(userId)));
    const served = answers.filter((answer) => answer.status === 200);
    expect(served.length).toBeGreaterThan(0);
    expect(answers.filter((answer) => answer.status === 429).length).toBeGreaterThan(0);
    const used = await getOverageStore().read(userId, await periodEnd(userId));
    expect(used).toBeLessThanOrEqual(1_000);
    const events = await listMeterEvents(await getDb(), userId);
    expect(events.reduce((sum, event) => sum + event.tokens, 0)).toBe(used);
  });

  it("writes one event per request id even when the same answer settles twice", async () => {
    const { userId, caller } = await subscriber();
    await caller.account.setOverageCap({ capCents: 100 });
    await exhaustBudget(userId);
    const overage = databaseChatOverage();
    const end = await periodEnd(userId);
    const { holdOverage } = await import("@/server/chat/overage");
    const held = await holdOverage(overage, { userId, requestId: "req-twice", upperBound: 300, periodEndsAt: end, budgetRemaining: 0 });
    if (!held.ok) throw new Error("no overage hold");
    await held.funding.settler.settle(userId, "req-twice", 120);
    await held.funding.settler.settle(userId, "req-twice", 120);
    expect((await listMeterEvents(await getDb(), userId)).map((event) => [event.id, event.tokens])).toEqual([["req-twice", 120]]);
  });
});

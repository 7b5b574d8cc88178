// Credit packs through the real Checkout (payment mode) of the sandbox, the real webhook route and the real budget
// store: a paid pack is granted exactly once whichever reports it (webhook, success page) in any order and however
// often; two packs bought in two tabs are two grants; a refund takes back what is left; an expired pack is not spent;
// a user without a plan cannot buy one. The store is the app's own: in-process, or Upstash through the bridge in front
// of a real Redis when REDIS_URL is set.
import type Stripe from "stripe";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it, vi } from "vitest";
import { creditPacks as creditPacksTable, users as usersTable } from "@/db/schema";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";

// The app's store is picked from the environment when it loads: point it at the bridge first.
const fixture: BridgeFixture | null = redisUrl ? await startBridgeFixture([]) : null;
if (fixture) {
  process.env.UPSTASH_REDIS_REST_URL = fixture.bridge.url;
  process.env.UPSTASH_REDIS_REST_TOKEN = fixture.token;
}
const { startStripeHarness, DAY_MS } = await import("../../support/stripe-harness");
const { loadApp } = await import("../../support/load-app");
const harness = await startStripeHarness();
const { getDb, signUp, ensureStripeCustomer, createCheckoutSession, getBudgetStore, createCaller, env } = await loadApp();
const { buyCredits, listCreditPackPurchases, syncCreditPackAfterCheckout } = await import("@/server/billing/credit-packs");
const { creditPacks } = await import("@/server/billing/plans");
const { stripe } = harness;
const PACK = creditPacks.tokens_1m;

const users: string[] = [];
afterAll(async () => {
  for (const userId of users) await getBudgetStore().forget(userId);
  await fixture?.close();
});

let counter = 0;

async function newUser() {
  const user = await signUp({ email: `packs${++counter}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  users.push(user.id);
  return user;
}

async function subscriber() {
  const user = await newUser();
  const customerId = await ensureStripeCustomer(user.id);
  const checkout = await createCheckoutSession(user.id, { plan: "starter" });
  await harness.completeCheckout(checkout.url);
  await harness.idle();
  return { user, customerId };
}

const sessionIdOf = (url: string) => new URL(url).pathname.split("/").pop() ?? "";

async function rows(userId: string) {
  return (await getDb()).select().from(creditPacksTable).where(eq(creditPacksTable.userId, userId));
}

async function packTokens(userId: string) {
  return (await getBudgetStore().readPacks(userId)).reduce((sum, pack) => sum + pack.tokensRemaining, 0);
}

/** Spends `tokens` through the store as a chat answer would (period budget first, then packs). */
async function spend(userId: string, tokens: number) {
  const store = getBudgetStore();
  const requestId = `spend-${Math.random()}`;
  const reservation = await store.reserve(userId, requestId, tokens);
  if (!reservation.ok) return false;
  await store.settle(userId, requestId, tokens);
  return true;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Redelivers every event about the customer (or naming one of `alsoAbout`, such as a dispute, which names only its
 * payment) through the real route, as new event ids, shuffled. Answers the replayed events' types.
 */
async function replayCustomerEvents(customerId: string, rounds: number, between: () => Promise<unknown>, alsoAbout: string[] = []) {
  const events: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    const object = JSON.stringify(event.data.object);
    if ([customerId, ...alsoAbout].some((id) => object.includes(id))) events.push(event);
  }
  expect(events.some((event) => event.type === "checkout.session.completed" && event.data.object.mode === "payment")).toBe(true);
  for (let round = 0; round < rounds; round++) {
    for (const event of shuffled(events)) {
      const payload = JSON.stringify({ ...event, id: `${event.id}_replay${round}` });
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
      const response = await harness.postWebhook(
        new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }),
      );
      expect(response.status).toBe(200);
      await between();
    }
  }
  return new Set(events.map((event) => event.type));
}

describe(`buying a credit pack (${fixture ? "Upstash store through the bridge" : "in-process store"})`, () => {
  it("refuses a user without a plan, and an unknown pack, with clear errors", async () => {
    const user = await newUser();
    await expect(buyCredits(user.id, { pack: "tokens_1m" })).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringMatching(/subscribe to a plan first/) });
    const caller = createCaller({ db: await getDb(), userId: user.id });
    // @ts-expect-error an id the plans table does not declare
    await expect(caller.billing.buyCredits({ pack: "tokens_999" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/Choose one of the credit packs: tokens_1m/) });
    // @ts-expect-error strict input: no extra fields (an amount cannot be smuggled in)
    await expect(caller.billing.buyCredits({ pack: "tokens_1m", tokens: 5 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await rows(user.id)).toEqual([]);
  });

  it("opens a payment-mode Checkout for the pack's one-time price, on the user's customer", async () => {
    const { user, customerId } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" }, { appUrl: "http://127.0.0.1:3999" });
    const session = await stripe.checkout.sessions.retrieve(sessionIdOf(url), { expand: ["line_items"] });
    expect(session).toMatchObject({
      mode: "payment",
      customer: customerId,
      client_reference_id: user.id,
      metadata: { userId: user.id, packId: "tokens_1m" },
      amount_total: PACK.amountCents,
      status: "open",
    });
    expect(session.line_items?.data[0]?.price).toMatchObject({ lookup_key: PACK.lookupKey, type: "one_time", unit_amount: 500 });
    expect(session.success_url).toBe("http://127.0.0.1:3999/chat?credits=success&session_id={CHECKOUT_SESSION_ID}");
    expect(session.cancel_url).toBe("http://127.0.0.1:3999/chat?credits=canceled");
  });

  it("buys the plans table's first pack when none is named (no input, or an empty one)", async () => {
    const { user } = await subscriber();
    // Through tRPC, as the browser asks: buying needs a confirmed address.
    await (await getDb()).update(usersTable).set({ emailVerified: new Date() }).where(eq(usersTable.id, user.id));
    const caller = createCaller({ db: await getDb(), userId: user.id });
    for (const { url } of [await caller.billing.buyCredits(), await caller.billing.buyCredits({})]) {
      const session = await stripe.checkout.sessions.retrieve(sessionIdOf(url), { expand: ["line_items"] });
      expect(session.metadata).toMatchObject({ packId: "tokens_1m" });
      expect(session.line_items?.data[0]?.price?.lookup_key).toBe(PACK.lookupKey);
    }
  });

  it("grants a pack bought in two tabs twice, and nothing more under replays x3 and success pages in between", async () => {
    const { user, customerId } = await subscriber();
    const tabs = await Promise.all([buyCredits(user.id, { pack: "tokens_1m" }), buyCredits(user.id, { pack: "tokens_1m" })]);
    await Promise.all(tabs.map((tab) => harness.completeCheckout(tab.url)));
    await harness.idle();
    expect(await packTokens(user.id)).toBe(2 * PACK.tokens);
    const bought = await rows(user.id);
    expect(bought).toHaveLength(2);
    for (const row of bought) {
      expect(row).toMatchObject({ packId: "tokens_1m", tokens: PACK.tokens, amountCents: 500, currency: "usd", refundedAt: null });
      expect(row.grantedAt).toBeInstanceOf(Date);
      expect(row.expiresAt.getTime() - row.purchasedAt.getTime()).toBe(env.CREDIT_PACK_EXPIRY_DAYS * DAY_MS);
    }
    // Each success page, again and again, between shuffled redeliveries of every event.
    const returns = () => Promise.all(tabs.map((tab) => syncCreditPackAfterCheckout(user.id, sessionIdOf(tab.url))));
    await replayCustomerEvents(customerId, 3, returns);
    await harness.idle();
    expect(await packTokens(user.id)).toBe(2 * PACK.tokens);
    expect(await rows(user.id)).toEqual(bought);
    // Both listed; the budget store down leaves what is left unknown, not zero.
    expect(await listCreditPackPurchases(user.id)).toMatchObject([{ status: "active", tokensLeft: PACK.tokens }, { status: "active", tokensLeft: PACK.tokens }]);
    const down = { readPacks: () => Promise.reject(new Error("store unreachable")) };
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await listCreditPackPurchases(user.id, { budget: down })).toMatchObject([{ status: "active", tokensLeft: null }, { status: "active", tokensLeft: null }]);
    } finally {
      logged.mockRestore();
    }
  });

  for (const first of ["success page", "webhook"] as const) {
    it(`grants once when the ${first} reports the payment first`, async () => {
      const { user } = await subscriber();
      const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
      await harness.faults({ pauseDeliveries: true });
      try {
        await harness.completeCheckout(url);
        if (first === "success page") {
          expect(await syncCreditPackAfterCheckout(user.id, sessionIdOf(url))).toMatchObject({ outcome: "pack-granted", applied: true });
          expect(await packTokens(user.id)).toBe(PACK.tokens);
        }
      } finally {
        await harness.faults({ pauseDeliveries: false, duplicate: 3, shuffle: true });
      }
      await harness.idle();
      expect(await syncCreditPackAfterCheckout(user.id, sessionIdOf(url))).toMatchObject({ outcome: "pack-granted", applied: false });
      expect(await packTokens(user.id)).toBe(PACK.tokens);
      expect(await rows(user.id)).toHaveLength(1);
      await harness.faults({ duplicate: 1, shuffle: false });
    });
  }

  it("grants a pack whose payment is reported by checkout.session.async_payment_succeeded (a delayed method), once", async () => {
    const { user, customerId } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.faults({ pauseDeliveries: true });
    try {
      await harness.completeCheckout(url);
      const completed = (await stripe.events.list({ type: "checkout.session.completed", limit: 100 })).data.find(
        (event) => JSON.stringify(event.data.object).includes(customerId) && (event.data.object as Stripe.Checkout.Session).mode === "payment",
      );
      if (!completed) throw new Error("no checkout.session.completed for the pack");
      const payload = JSON.stringify({ ...completed, id: `${completed.id}_async`, type: "checkout.session.async_payment_succeeded" });
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
      const response = await harness.postWebhook(new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }));
      expect(response.status).toBe(200);
      expect(await packTokens(user.id)).toBe(PACK.tokens);
    } finally {
      await harness.faults({ pauseDeliveries: false });
    }
    await harness.idle();
    expect(await packTokens(user.id)).toBe(PACK.tokens);
    expect(await rows(user.id)).toHaveLength(1);
  });

  it("never grants a granted pack again, even after the budget store lost it (a flushed Redis)", async () => {
    const { user } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.completeCheckout(url);
    await harness.idle();
    expect(await packTokens(user.id)).toBe(PACK.tokens);
    await getBudgetStore().forget(user.id);
    expect(await syncCreditPackAfterCheckout(user.id, sessionIdOf(url))).toMatchObject({ outcome: "pack-granted", applied: false });
    expect(await packTokens(user.id)).toBe(0);
  });

  it("grants nothing to another user's success page, nor for a malformed session id", async () => {
    const { user } = await subscriber();
    const other = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.faults({ pauseDeliveries: true });
    try {
      await harness.completeCheckout(url);
      expect(await syncCreditPackAfterCheckout(other.user.id, sessionIdOf(url))).toBeNull();
      expect(await syncCreditPackAfterCheckout(user.id, "not-a-session")).toBeNull();
      expect(await packTokens(other.user.id)).toBe(0);
    } finally {
      await harness.faults({ pauseDeliveries: false });
    }
    await harness.idle();
    expect(await packTokens(user.id)).toBe(PACK.tokens);
  });
});

describe("spending and refunding a pack", () => {
  it("is spent after the period's budget; a refund removes what is left, and chat stops once the budget is gone", async () => {
    const { user } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.completeCheckout(url);
    await harness.idle();
    const budget = (await getBudgetStore().read(user.id))?.tokensRemaining ?? 0;
    expect(budget).toBeGreaterThan(0);
    expect(await spend(user.id, budget + 400_000)).toBe(true);
    expect(await packTokens(user.id)).toBe(PACK.tokens - 400_000);
    expect(await listCreditPackPurchases(user.id)).toMatchObject([{ status: "active", tokens: PACK.tokens, tokensLeft: PACK.tokens - 400_000, amountCents: 500 }]);

    const session = await stripe.checkout.sessions.retrieve(sessionIdOf(url));
    await stripe.refunds.create({ payment_intent: String(session.payment_intent) });
    await harness.idle();
    expect(await packTokens(user.id)).toBe(0);
    const [row] = await rows(user.id);
    expect(row?.refundedAt).toBeInstanceOf(Date);
    expect(row?.paymentIntentId).toBe(session.payment_intent);
    expect(await spend(user.id, 1)).toBe(false);
    expect(await listCreditPackPurchases(user.id)).toMatchObject([{ status: "refunded", tokensLeft: 0 }]);
    // A second success page after the refund grants nothing back.
    expect(await syncCreditPackAfterCheckout(user.id, session.id)).toMatchObject({ outcome: "pack-refunded" });
    expect(await packTokens(user.id)).toBe(0);
  });

  it("takes back what is left of a pack whose payment is disputed later (a chargeback), once under replays x3", async () => {
    const { user, customerId } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.completeCheckout(url);
    await harness.idle();
    const budget = (await getBudgetStore().read(user.id))?.tokensRemaining ?? 0;
    expect(await spend(user.id, budget + 250_000)).toBe(true);
    expect(await packTokens(user.id)).toBe(PACK.tokens - 250_000);

    const session = await stripe.checkout.sessions.retrieve(sessionIdOf(url));
    const intent = await stripe.paymentIntents.retrieve(String(session.payment_intent));
    expect(await harness.disputeCharge(String(intent.latest_charge))).toBe(200);
    await harness.idle();
    expect(await packTokens(user.id)).toBe(0);
    expect(await spend(user.id, 1)).toBe(false);
    expect(await rows(user.id)).toMatchObject([{ paymentIntentId: intent.id, refundedAt: expect.any(Date), grantedAt: expect.any(Date) }]);
    expect(await listCreditPackPurchases(user.id)).toMatchObject([{ status: "refunded", tokensLeft: 0 }]);
    // Every event again (the dispute's included), with the success page between: nothing comes back.
    const replayed = await replayCustomerEvents(customerId, 3, () => syncCreditPackAfterCheckout(user.id, session.id), [intent.id]);
    expect(replayed).toContain("charge.dispute.created");
    await harness.idle();
    expect(await packTokens(user.id)).toBe(0);
    expect(await syncCreditPackAfterCheckout(user.id, session.id)).toMatchObject({ outcome: "pack-refunded", tokensRemoved: 0 });
    expect(await rows(user.id)).toHaveLength(1);
  });

  it("never grants a pack paid with the dispute card (disputed at once), whichever report comes first", async () => {
    const { user } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.faults({ pauseDeliveries: true });
    try {
      await harness.completeCheckout(url, "4000000000000259");
      expect(await syncCreditPackAfterCheckout(user.id, sessionIdOf(url))).toMatchObject({ outcome: "pack-refunded", tokensRemoved: 0 });
    } finally {
      await harness.faults({ pauseDeliveries: false, duplicate: 3, shuffle: true });
    }
    await harness.idle();
    await harness.faults({ duplicate: 1, shuffle: false });
    expect(await packTokens(user.id)).toBe(0);
    expect(await rows(user.id)).toMatchObject([{ refundedAt: expect.any(Date), grantedAt: null }]);
  });

  it("never grants a pack refunded before any report of its payment arrived", async () => {
    const { user } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.faults({ pauseDeliveries: true });
    try {
      await harness.completeCheckout(url);
      const session = await stripe.checkout.sessions.retrieve(sessionIdOf(url));
      await stripe.refunds.create({ payment_intent: String(session.payment_intent) });
    } finally {
      await harness.faults({ pauseDeliveries: false, duplicate: 3, shuffle: true });
    }
    await harness.idle();
    await harness.faults({ duplicate: 1, shuffle: false });
    expect(await syncCreditPackAfterCheckout(user.id, sessionIdOf(url))).toMatchObject({ outcome: "pack-refunded", tokensRemoved: 0 });
    expect(await packTokens(user.id)).toBe(0);
    expect(await rows(user.id)).toMatchObject([{ refundedAt: expect.any(Date) }]);
  });

  it("does not spend a pack past its expiry", async () => {
    const { user } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    await harness.faults({ pauseDeliveries: true });
    try {
      await harness.completeCheckout(url);
      // The success page recorded it CREDIT_PACK_EXPIRY_DAYS and a day ago: it has expired by now.
      const longAgo = new Date(Date.now() - (env.CREDIT_PACK_EXPIRY_DAYS + 1) * DAY_MS);
      expect(await syncCreditPackAfterCheckout(user.id, sessionIdOf(url), { now: () => longAgo })).toMatchObject({ outcome: "pack-granted" });
    } finally {
      await harness.faults({ pauseDeliveries: false });
    }
    await harness.idle();
    expect(await getBudgetStore().readPacks(user.id)).toEqual([]);
    expect(await listCreditPackPurchases(user.id)).toMatchObject([{ status: "expired", tokensLeft: 0 }]);
    const budget = (await getBudgetStore().read(user.id))?.tokensRemaining ?? 0;
    expect(await spend(user.id, budget)).toBe(true);
    expect(await spend(user.id, 1)).toBe(false);
  });

  it("declines a refused card on the hosted page without granting anything", async () => {
    const { user } = await subscriber();
    const { url } = await buyCredits(user.id, { pack: "tokens_1m" });
    expect((await harness.attemptCheckout(url, "4000000000000002")).status).toBe(402);
    await harness.idle();
    expect(await packTokens(user.id)).toBe(0);
    expect(await rows(user.id)).toEqual([]);
  });
});

// The webhook route's edges: signatures, duplicates, unknown events and customers, and transient failures.
import { count, eq } from "drizzle-orm";
import Stripe from "stripe";
import { describe, expect, it, vi } from "vitest";
import { loadApp } from "../../support/load-app";
import { captureLogs } from "../../support/log-capture";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const { getDb, stripeEvents, findUserById, signUp, ensureStripeCustomer, createCheckoutSession, processStripeWebhook, syncSubscriptionFromStripe } =
  await loadApp();
const { stripe, webhookSecret, postWebhook } = harness;

function post(body: string, signature?: string) {
  const headers = new Headers();
  if (signature !== undefined) headers.set("stripe-signature", signature);
  return postWebhook(new Request("http://app/api/webhooks/stripe", { method: "POST", body, headers }));
}

const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? webhookSecret, timestamp: options.timestamp });

async function eventCount() {
  const [row] = await (await getDb()).select({ value: count() }).from(stripeEvents);
  return row?.value ?? 0;
}

/** A real event from the sandbox for a fresh subscriber, taken before its delivery could be processed. */
async function subscriptionEvent() {
  const user = await signUp({ email: `hook${Date.now()}${Math.random()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  const customerId = await ensureStripeCustomer(user.id);
  await harness.faults({ pauseDeliveries: true });
  const checkout = await createCheckoutSession(user.id, { plan: "starter" });
  await harness.completeCheckout(checkout.url);
  const events = await stripe.events.list({ type: "customer.subscription.created", limit: 100 });
  const event = events.data.find((candidate) => JSON.stringify(candidate.data.object).includes(customerId));
  if (event?.type !== "customer.subscription.created") throw new Error("no subscription event");
  return { user, customerId, event, payload: JSON.stringify(event) };
}

describe("webhook signatures", () => {
  it("refuses missing, malformed, wrong-secret, tampered and stale signatures with 400, writing nothing", async () => {
    const { user, payload } = await subscriptionEvent();
    try {
      const before = await eventCount();
      const stale = Math.floor(Date.now() / 1000) - 301;
      const cases: Array<[string, Promise<Response>]> = [
        ["missing", post(payload)],
        ["malformed", post(payload, "not-a-signature")],
        ["empty", post(payload, "")],
        ["wrong secret", post(payload, sign(payload, { secret: "whsec_someone_else" }))],
        ["tampered body", post(payload.replace('"active"', '"canceled"'), sign(payload))],
        ["stale", post(payload, sign(payload, { timestamp: stale }))],
        ["not JSON", post("{nope", sign("{nope"))],
      ];
      for (const [label, pending] of cases) {
        const response = await pending;
        expect(response.status, label).toBe(400);
        expect(await response.json(), label).toMatchObject({ error: { code: "BAD_REQUEST" } });
      }
      expect(await eventCount()).toBe(before);
      const row = await findUserById(await getDb(), user.id);
      expect(row).toMatchObject({ planActive: false, stripeSubscriptionId: null });
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("applies a correctly signed event once; the same id again is a 200 no-op", async () => {
    const { user, event, payload } = await subscriptionEvent();
    try {
      const first = await post(payload, sign(payload));
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ received: true, status: "processed" });
      const row = await findUserById(await getDb(), user.id);
      expect(row).toMatchObject({ planActive: true, stripeSubscriptionId: event.data.object.id });

      const again = await post(payload, sign(payload));
      expect(await again.json()).toEqual({ received: true, status: "duplicate" });
      const rows = await (await getDb()).select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ type: "customer.subscription.created", processedAt: expect.any(Date) });
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("processes concurrent deliveries of one event exactly once", async () => {
    const { event, payload } = await subscriptionEvent();
    try {
      const responses = await Promise.all(Array.from({ length: 5 }, () => post(payload, sign(payload))));
      const statuses = await Promise.all(responses.map(async (response) => (await response.json()).status));
      expect(responses.every((response) => response.status === 200)).toBe(true);
      expect(statuses.filter((status) => status === "processed")).toHaveLength(1);
      expect(await (await getDb()).select().from(stripeEvents).where(eq(stripeEvents.id, event.id))).toHaveLength(1);
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });
});

describe("bursts of events for one customer", () => {
  /** Another handled event of the same customer, from the same checkout. */
  async function otherEvent(customerId: string, type: "invoice.paid" | "checkout.session.completed") {
    const events = await stripe.events.list({ type, limit: 100 });
    const event = events.data.find((candidate) => JSON.stringify(candidate.data.object).includes(customerId));
    if (!event) throw new Error(`no ${type} event`);
    return JSON.stringify(event);
  }

  /**
   * A Stripe client whose subscriptions.list waits until `release` resolves before reading (later reads: until
   * `laterReads` resolves too), and counts reads, so a test can make more events arrive while the first one's read
   * is in flight and decide which write comes first.
   */
  function gatedStripe(release: Promise<void>, laterReads: Promise<unknown> = release) {
    const reads: number[] = [];
    let entered: () => void = () => {};
    const firstReadEntered = new Promise<void>((resolve) => (entered = resolve));
    const subscriptions = Object.assign(Object.create(stripe.subscriptions) as Stripe["subscriptions"], {
      list: async (params: Stripe.SubscriptionListParams) => {
        const index = reads.length;
        reads.push(index);
        entered();
        await release;
        if (index > 0) await laterReads;
        return stripe.subscriptions.list(params);
      },
    });
    const client = Object.assign(Object.create(stripe) as Stripe, { subscriptions });
    return { client, reads, firstReadEntered };
  }

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("shares one read among the events that arrived while a read of their customer was in flight", async () => {
    const { user, customerId, payload } = await subscriptionEvent();
    try {
      const queuedPayloads = [await otherEvent(customerId, "invoice.paid"), await otherEvent(customerId, "checkout.session.completed")];
      let release: () => void = () => {};
      let firstDone: () => void = () => {};
      // The second read returns only after the first event has written, so the order of the writes is the one the
      // assertions below describe, however slow the machine (otherwise the second read may write first, correctly).
      const gate = gatedStripe(
        new Promise<void>((resolve) => (release = resolve)),
        new Promise<void>((resolve) => (firstDone = resolve)),
      );
      const first = processStripeWebhook(payload, sign(payload), { stripe: gate.client });
      first.then(firstDone, firstDone);
      await gate.firstReadEntered; // the first is reading, holding no connection
      const queued = queuedPayloads.map((body) => processStripeWebhook(body, sign(body), { stripe: gate.client }));
      await pause(150); // both have arrived and wait for the next read
      release();
      const outcomes = await Promise.all([first, ...queued]);
      // The first read began before the others arrived, so one more read serves both of them; the one that writes
      // second finds that read already written.
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["processed", "processed", "processed"]);
      const results = outcomes.map((outcome) => (outcome.status === "processed" ? outcome.result.outcome : null));
      expect(results[0]).toBe("synced");
      expect(results.slice(1).sort()).toEqual(["already-current", "synced"]);
      expect(gate.reads).toHaveLength(2);
      const row = await findUserById(await getDb(), user.id);
      expect(row).toMatchObject({ planActive: true, subscriptionStatus: "active" });
      expect(await (await getDb()).select().from(stripeEvents).where(eq(stripeEvents.customerId, customerId))).toHaveLength(3);
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("a sync that fails after its read leaves nothing behind: the next event reads, refills and writes", async () => {
    // An event's sync reads Stripe and then fails (the budget store is down): no event, no state and no refill are
    // recorded, so the next event of the customer reads Stripe itself and does all of it.
    const { user, customerId, payload } = await subscriptionEvent();
    try {
      const db = await getDb();
      const reads = gatedStripe(Promise.resolve());
      const storeDown = {
        reset: () => Promise.reject(new Error("budget store unreachable")),
        raiseCap: () => Promise.reject(new Error("budget store unreachable")),
      };
      await expect(processStripeWebhook(payload, sign(payload), { stripe: reads.client, budget: storeDown })).rejects.toThrow(
        "budget store unreachable",
      );
      expect(await db.select().from(stripeEvents).where(eq(stripeEvents.customerId, customerId))).toHaveLength(0);
      expect(await findUserById(db, user.id)).toMatchObject({ planActive: false, budgetRefilledFor: null });
      const later = await otherEvent(customerId, "invoice.paid");
      expect(await processStripeWebhook(later, sign(later), { stripe: reads.client })).toMatchObject({
        status: "processed",
        result: { outcome: "synced", budgetReset: true },
      });
      expect(reads.reads).toHaveLength(2);
      const row = await findUserById(db, user.id);
      expect(row).toMatchObject({ planActive: true, subscriptionStatus: "active" });
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("never lets an older Stripe read overwrite a newer one: two syncs whose reads return in reverse order", async () => {
    const { user, customerId, payload } = await subscriptionEvent();
    try {
      expect(await post(payload, sign(payload))).toMatchObject({ status: 200 });
      const db = await getDb();
      expect(await findUserById(db, user.id)).toMatchObject({ planActive: true, subscriptionStatus: "active" });

      // The older read sees the live subscription, then answers only after a newer read has been written.
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let readDone: () => void = () => {};
      const olderRead = new Promise<void>((resolve) => (readDone = resolve));
      const slow = Object.assign(Object.create(stripe) as Stripe, {
        subscriptions: Object.assign(Object.create(stripe.subscriptions) as Stripe["subscriptions"], {
          list: async (params: Stripe.SubscriptionListParams) => {
            const answer = await stripe.subscriptions.list(params);
            readDone();
            await released;
            return answer;
          },
        }),
      });
      const older = syncSubscriptionFromStripe(customerId, { stripe: slow });
      await olderRead;
      const sub = (await stripe.subscriptions.list({ customer: customerId })).data[0];
      await stripe.subscriptions.cancel(sub?.id ?? "");
      // Another client, as another server process would be: its read is not shared with the one in flight.
      const other = new Stripe("sk_test_other_process", { host: "127.0.0.1", port: harness.sandbox.port, protocol: "http", maxNetworkRetries: 0 });
      expect(await syncSubscriptionFromStripe(customerId, { stripe: other })).toMatchObject({ outcome: "synced" });
      release();
      expect(await older).toEqual({ outcome: "already-current", userId: user.id });
      expect(await findUserById(db, user.id)).toMatchObject({ planActive: false, subscriptionStatus: "canceled" });
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("holds no database transaction while Stripe answers", async () => {
    const { customerId, payload } = await subscriptionEvent();
    try {
      const db = await getDb();
      let open = 0;
      const counted = Object.assign(Object.create(db) as typeof db, {
        transaction: (async (work, config) => {
          open += 1;
          try {
            return await db.transaction(work, config);
          } finally {
            open -= 1;
          }
        }) satisfies typeof db.transaction,
      });
      let release: () => void = () => {};
      const gate = gatedStripe(new Promise<void>((resolve) => (release = resolve)));
      const pending = processStripeWebhook(payload, sign(payload), { db: counted, stripe: gate.client });
      await gate.firstReadEntered;
      await pause(50);
      expect(open).toBe(0);
      release();
      expect(await pending).toMatchObject({ status: "processed", result: { outcome: "synced" } });
      expect(await db.select().from(stripeEvents).where(eq(stripeEvents.customerId, customerId))).toHaveLength(1);
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });
});

describe("webhook outcomes", () => {
  it("answers 200 to event types it does not handle, without recording them", async () => {
    const payload = JSON.stringify({ id: "evt_unhandled_1", object: "event", type: "payment_intent.created", data: { object: { id: "pi_1" } } });
    const response = await post(payload, sign(payload));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, status: "ignored" });
    expect(await (await getDb()).select().from(stripeEvents).where(eq(stripeEvents.id, "evt_unhandled_1"))).toHaveLength(0);
  });

  it("answers 200 and logs for a customer Hourglass does not know", async () => {
    const stranger = await stripe.customers.create({ email: "stranger@example.com" });
    const payload = JSON.stringify({
      id: "evt_stranger_1",
      object: "event",
      type: "customer.subscription.updated",
      data: { object: { id: "sub_unknown", object: "subscription", customer: stranger.id } },
    });
    const logs = captureLogs();
    const response = await post(payload, sign(payload)).finally(logs.restore);
    expect(response.status).toBe(200);
    expect(logs.at("warn")).toEqual([expect.objectContaining({ eventId: "evt_stranger_1", outcome: "unknown-customer", msg: "stripe webhook: nothing to update" })]);
  });

  it("answers 500 when Stripe cannot be read, records nothing, and succeeds on the retry", async () => {
    const { user, event, payload } = await subscriptionEvent();
    try {
      const unreachable = new Stripe("sk_test_x", { host: "127.0.0.1", port: 9, protocol: "http", maxNetworkRetries: 0 });
      await expect(processStripeWebhook(payload, sign(payload), { stripe: unreachable })).rejects.toThrow();
      expect(await (await getDb()).select().from(stripeEvents).where(eq(stripeEvents.id, event.id))).toHaveLength(0);
      const untouched = await findUserById(await getDb(), user.id);
      expect(untouched?.planActive).toBe(false);

      const retry = await post(payload, sign(payload));
      expect(retry.status).toBe(200);
      const row = await findUserById(await getDb(), user.id);
      expect(row?.planActive).toBe(true);
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("answers 500 from the route itself on a transient failure, so Stripe retries", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { payload } = await subscriptionEvent();
    try {
      await harness.sandbox.close();
      const response = await post(payload, sign(payload));
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ error: { code: "INTERNAL_SERVER_ERROR" } });
    } finally {
      errors.mockRestore();
    }
  });
});

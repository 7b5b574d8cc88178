// Fault 2: the database goes away while webhooks flow. On Postgres a TCP proxy between the app and the server is
// cut for a while (open connections die mid-transaction, new ones are refused); on PGlite, which runs in-process,
// the same is simulated through processStripeWebhook's `db` seam (queries and in-transaction writes throw).
// The route must answer 5xx, the sandbox retry, every customer converge, and nothing be half-written.
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { DAY_MS, startStripeHarness } from "../support/stripe-harness";
import { inBatches } from "./in-batches";
import { hostPort, startTcpProxy, throughProxy } from "../support/tcp-proxy";

const onPostgres = Boolean(process.env.DATABASE_URL);
const proxy = onPostgres ? await startTcpProxy(hostPort(process.env.DATABASE_URL ?? "", 5432)) : null;
// The app's database client connects through the proxy; only the test's own checks would care about the difference.
if (proxy) process.env.DATABASE_URL = throughProxy(process.env.DATABASE_URL ?? "", proxy.port);

const harness = await startStripeHarness({ retryBaseMs: 50, maxAttempts: 12 });
const { getDb } = await import("@/db/index");
const { users, stripeEvents } = await import("@/db/schema");
const { env } = await import("@/lib/env");
const { errorResponse } = await import("@/server/errors");
const { signUp } = await import("@/server/auth/sign-up");
const { ensureStripeCustomer } = await import("@/server/billing/customers");
const { createCheckoutSession } = await import("@/server/billing/checkout");
const { plans } = await import("@/server/billing/plans");
const { subscriptionState } = await import("@/server/billing/sync-subscription");
const { processStripeWebhook } = await import("@/server/billing/webhooks/process-webhook");
const { isHandledEvent } = await import("@/server/billing/webhooks/handlers");
const { stripe } = harness;

// PGlite: a database handle that fails like a lost connection while `down`: reads before the transaction
// sometimes, and always the state write inside it (after the event id was claimed, so a rollback is needed).
let simulatedDown = false;
const lost = () => Object.assign(new Error("simulated outage: connection to the database lost"), { code: "ECONNRESET" });
function flaky<T extends object>(target: T, inTransaction = false): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "transaction") {
        return (callback: (tx: object) => Promise<unknown>, ...rest: unknown[]) =>
          (value as (...args: unknown[]) => Promise<unknown>).call(object, (tx: object) => callback(flaky(tx, true)), ...rest);
      }
      if (simulatedDown && ((inTransaction && property === "update") || (!inTransaction && property === "select" && Math.random() < 0.3))) {
        return () => {
          throw lost();
        };
      }
      return (value as (...args: unknown[]) => unknown).bind(object);
    },
  });
}
if (!onPostgres) {
  const db = flaky(await getDb());
  harness.setHandler(async (request) => {
    const rawBody = await request.text();
    try {
      const outcome = await processStripeWebhook(rawBody, request.headers.get("stripe-signature"), { db });
      return Response.json({ received: true, status: outcome.status });
    } catch (error) {
      return errorResponse(error);
    }
  });
}

async function goDown() {
  if (proxy) await proxy.cut();
  else simulatedDown = true;
}
async function comeBack() {
  if (proxy) await proxy.restore();
  else simulatedDown = false;
}

describe(`the database goes away mid-stream (${onPostgres ? "Postgres behind a TCP proxy that is cut" : "PGlite, simulated through the db seam"})`, () => {
  it("answers 5xx while it is gone, converges every customer once it is back, and half-writes nothing", async () => {
    const customers: Array<{ userId: string; customerId: string }> = [];
    // Queue a burst of purchases, plan changes and renewals, then let it flow and pull the database out from under it.
    await harness.faults({ pauseDeliveries: true });
    try {
      await inBatches(Array.from({ length: 16 }, (_, i) => i), 8, async (index) => {
        const user = await signUp({ email: `outage${index}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
        const customerId = await ensureStripeCustomer(user.id);
        const checkout = await createCheckoutSession(user.id, { plan: index % 2 === 0 ? "starter" : "pro" });
        await harness.completeCheckout(checkout.url);
        customers.push({ userId: user.id, customerId });
        const sub = await harness.currentSubscription(customerId);
        if (!sub) throw new Error("no subscription");
        if (index % 3 === 0) await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
        const periodEnd = (sub.items.data[0]?.current_period_end ?? 0) * 1000;
        await harness.advanceClock(customerId, new Date(periodEnd + DAY_MS));
      });
    } finally {
      await harness.faults({});
    }
    // The route logs each failure (that is the behaviour wanted); keep the suite's output readable.
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const answersBefore = harness.answers.length;
    // Let a few deliveries through, then cut.
    while (harness.answers.length < answersBefore + 5) await new Promise((resolve) => setTimeout(resolve, 10));
    await goDown();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const duringOutage = harness.answers.slice(answersBefore);
    await comeBack();
    await harness.idle();
    const loggedFailures = logged.mock.calls.length;
    logged.mockRestore();
    expect(loggedFailures).toBeGreaterThan(0);

    const failures = duringOutage.filter((answer) => answer.status >= 500);
    expect(failures.length).toBeGreaterThan(0);
    expect(harness.answers.filter((answer) => answer.status >= 400 && answer.status < 500)).toEqual([]);
    // Every event that failed was retried until it succeeded: its last answer is a 200.
    const lastAnswer = new Map(harness.answers.map((answer) => [answer.eventId, answer.status]));
    expect([...lastAnswer].filter(([, status]) => status !== 200)).toEqual([]);
    for (const failure of failures) expect(lastAnswer.get(failure.eventId)).toBe(200);

    // Converged: the database equals the sandbox for every customer.
    const db = await getDb();
    for (const { userId, customerId } of customers) {
      const truth = await harness.currentSubscription(customerId);
      if (!truth) throw new Error("no subscription");
      const { planExpires, ...expected } = subscriptionState(truth, env.BILLING_GRACE_SECONDS);
      const [row] = await db.select().from(users).where(eq(users.id, userId));
      expect(row).toMatchObject(expected);
      expect(row?.planExpires?.getTime()).toBe(planExpires?.getTime());
      expect(row?.planId).toBe(truth.items.data[0]?.price.lookup_key === plans.pro.lookupKey ? "pro" : "starter");
    }
    // Nothing half-written: every recorded event id was answered 200 (its state committed with it), and every
    // event answered 200 is recorded exactly once.
    const recorded = await db.select({ id: stripeEvents.id }).from(stripeEvents);
    const recordedIds = new Set(recorded.map((row) => row.id));
    expect(recorded.length).toBe(recordedIds.size);
    const succeeded = new Set(harness.answers.filter((answer) => answer.status === 200).map((answer) => answer.eventId));
    for (const id of recordedIds) expect(succeeded.has(id)).toBe(true);
    const events = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    const handled = events.filter((event) => isHandledEvent(event) && succeeded.has(event.id));
    expect(handled.length).toBeGreaterThan(customers.length * 3);
    for (const event of handled) expect(recordedIds.has(event.id), `${event.type} ${event.id} recorded`).toBe(true);
    console.info(`[faults] database outage: ${failures.length} deliveries answered 5xx during the outage, ${harness.answers.length} deliveries in all`);
  });
});

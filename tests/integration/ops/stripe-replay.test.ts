// `npm run stripe:replay` after an outage: the sandbox holds every delivery back (pauseDeliveries), the replay lists
// the undelivered events and processes them through the webhook route's own path, oldest first; the app ends equal
// to Stripe (0 mismatches), and a second replay finds everything already done.
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const { signUp, ensureStripeCustomer, createCheckoutSession, findUserById, getDb } = await loadApp();
const { parseReplaySince, replayUndeliveredEvents, listUndeliveredEvents } = await import("@/server/ops/stripe-replay");
const { stripe, webhookSecret } = harness;

async function subscribeDuringOutage(plan: "starter" | "pro") {
  const user = await signUp({ email: `replay${Date.now()}${Math.random()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  const customerId = await ensureStripeCustomer(user.id);
  const checkout = await createCheckoutSession(user.id, { plan });
  await harness.completeCheckout(checkout.url);
  return { user, customerId };
}

/** Fields of the app's row that differ from Stripe's current subscription. */
async function mismatches(userId: string, customerId: string): Promise<string[]> {
  const row = await findUserById(await getDb(), userId);
  const sub = await harness.currentSubscription(customerId);
  const expected = {
    stripeSubscriptionId: sub?.id ?? null,
    stripePriceId: sub?.items.data[0]?.price.id ?? null,
    planActive: sub ? ["active", "trialing", "past_due", "incomplete"].includes(sub.status) : false,
    stripeCurrentPeriodEnd: sub?.items.data[0] ? new Date(sub.items.data[0].current_period_end * 1000).toISOString() : null,
  };
  const actual = {
    stripeSubscriptionId: row?.stripeSubscriptionId ?? null,
    stripePriceId: row?.stripePriceId ?? null,
    planActive: row?.planActive ?? false,
    stripeCurrentPeriodEnd: row?.stripeCurrentPeriodEnd?.toISOString() ?? null,
  };
  return Object.keys(expected).filter((key) => expected[key as keyof typeof expected] !== actual[key as keyof typeof actual]);
}

describe("stripe:replay", () => {
  it("processes what was not delivered, oldest first; a second replay processes nothing new; 0 mismatches", async () => {
    const since = new Date(Date.now() - 60_000);
    await harness.faults({ pauseDeliveries: true });
    try {
      const subscribers = [await subscribeDuringOutage("starter"), await subscribeDuringOutage("pro")];
      for (const { user } of subscribers) expect((await findUserById(await getDb(), user.id))?.planActive).toBe(false);

      const undelivered = await listUndeliveredEvents(stripe, since);
      expect(undelivered.length).toBeGreaterThan(4);
      const times = undelivered.map((event) => event.created);
      expect(times).toEqual([...times].sort((a, b) => a - b));

      const first = await replayUndeliveredEvents(since, { webhookSecret });
      expect(first.events.map((event) => event.id)).toEqual(undelivered.map((event) => event.id));
      expect(first.failed).toBe(0);
      expect(first.processed).toBeGreaterThanOrEqual(4); // per subscriber: checkout, subscription, invoice events
      expect(first.processed + first.alreadyDone + first.ignored).toBe(undelivered.length);
      for (const { user, customerId } of subscribers) {
        expect((await findUserById(await getDb(), user.id))?.planActive).toBe(true);
        expect(await mismatches(user.id, customerId)).toEqual([]);
      }

      const second = await replayUndeliveredEvents(since, { webhookSecret });
      expect(second).toMatchObject({ processed: 0, failed: 0, alreadyDone: first.processed + first.alreadyDone, ignored: first.ignored });
      for (const { user, customerId } of subscribers) expect(await mismatches(user.id, customerId)).toEqual([]);

      // Stripe's own deliveries resume after the replay: every one is answered 2xx and changes nothing.
      const answered = harness.answers.length;
      await harness.faults({});
      await harness.idle();
      const late = harness.answers.slice(answered);
      expect(late.length).toBeGreaterThan(0);
      expect(late.filter((answer) => answer.status !== 200)).toEqual([]);
      for (const { user, customerId } of subscribers) expect(await mismatches(user.id, customerId)).toEqual([]);
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("refuses a --since that is missing, not a date, in the future or older than Stripe's 30 days", () => {
    const now = new Date("2026-12-02T12:00:00Z");
    expect(parseReplaySince("2026-11-30", now).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(parseReplaySince("2026-12-02T11:30:00+01:00", now).toISOString()).toBe("2026-12-02T10:30:00.000Z");
    expect(parseReplaySince("2026-11-02T12:00:00Z", now).toISOString()).toBe("2026-11-02T12:00:00.000Z");
    expect(() => parseReplaySince(undefined, now)).toThrow(/Missing --since/);
    for (const bad of ["yesterday", "2026-13-01", "2026-02-30", "30/11/2026", "2026-11-30T10:00", "1733000000"]) {
      expect(() => parseReplaySince(bad, now), bad).toThrow(/is not a date/);
    }
    expect(() => parseReplaySince("2026-12-03", now)).toThrow(/is in the future/);
    expect(() => parseReplaySince("2026-11-02T11:59:59Z", now)).toThrow(/more than 30 days ago.*stripe:resync/);
  });

  // The command itself, end to end: it opens the database in its own process, which PGlite (one process) cannot share.
  it.runIf(process.env.DATABASE_URL)("npm run stripe:replay prints the counts; run twice, the second processes nothing", async () => {
    const since = new Date(Date.now() - 60_000);
    await harness.faults({ pauseDeliveries: true });
    try {
      const { user, customerId } = await subscribeDuringOutage("starter");
      // Its own DATA_DIR: the in-process budget store's file belongs to one process at a time.
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-replay-"));
      const env = { ...process.env, STRIPE_API_BASE: harness.sandbox.url, STRIPE_WEBHOOK_SECRET: webhookSecret, STRIPE_MAX_NETWORK_RETRIES: "0", DATA_DIR: dataDir };
      // Asynchronously: the sandbox the command calls runs in this process.
      const replay = () =>
        new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
          execFile("npm", ["run", "--silent", "stripe:replay", "--", "--since", since.toISOString()], { encoding: "utf8", env }, (error, stdout, stderr) =>
            resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
          );
        });
      const first = await replay();
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      const counts = /^(\d+) processed, (\d+) already done, (\d+) ignored, 0 failed$/m.exec(first.stdout);
      expect(Number(counts?.[1])).toBeGreaterThanOrEqual(2);
      expect(await mismatches(user.id, customerId)).toEqual([]);
      const second = await replay();
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(/^0 processed, \d+ already done, \d+ ignored, 0 failed$/m);
      expect(await mismatches(user.id, customerId)).toEqual([]);
      fs.rmSync(dataDir, { recursive: true, force: true });
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("the command refuses a bad --since with the reason and exit code 2, before touching anything", () => {
    const run = (...args: string[]) => spawnSync("npx", ["tsx", "scripts/stripe-replay.ts", ...args], { encoding: "utf8", env: { ...process.env, STRIPE_API_BASE: "http://127.0.0.1:9" } });
    const old = run("--since", "2020-01-01");
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/more than 30 days ago: Stripe lists undelivered events for 30 days only/);
    const unknown = run("--from", "2026-11-30");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--from'.*\n.*Usage: npm run stripe:replay -- --since/s);
  });
});

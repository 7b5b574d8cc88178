// The renewal storm: N subscriptions renew at once (their test clocks advanced to one moment), and every event the
// renewals emitted is posted to the production server in emission order at concurrency 32, with the sandbox
// answering at 0 ms and at Stripe's pace (250 +/- 100 ms) in the same run, then once more under a 25 req/s limit
// (Stripe's test mode). Meanwhile a signed-in bystander's `billing.status` is timed; its reference is the same
// query timed in a quiet phase just before each storm.
import type Stripe from "stripe";
import type { StripeSandbox, ThrottleOptions } from "../sandbox/stripe";
import type { Bystander } from "./bystander";
import { percentile, round } from "./stats";

export const STORM_SUBSCRIPTIONS = 60;
export const STORM_CONCURRENCY = 32;
const QUIET_SAMPLES = 150;

export interface StormPhase {
  name: string;
  pace: ThrottleOptions;
  events: number;
  eventsPerSec: number;
  webhookP50Ms: number;
  webhookP99Ms: number;
  /** Deliveries answered other than 200 the first time (re-posted until 200, as Stripe would). */
  failedDeliveries: number;
  /** Rounds of re-posting the failed ones until every event was answered 200. */
  redeliveryRounds: number;
  stripeReadsPerEvent: number;
  stripeRequestsPerEvent: number;
  bystander: { quietP50Ms: number; quietP99Ms: number; duringP50Ms: number; duringP99Ms: number; duringSamples: number; p99Ratio: number };
  mismatches: string[];
}

export interface StormContext {
  stripe: Stripe;
  sandbox: StripeSandbox;
  webhookSecret: string;
  /** Posts one signed payload to the webhook route; resolves with the status. */
  postWebhook(payload: string, signature: string): Promise<number>;
  /** The signed-in bystander, timing `billing.status` from its own thread. */
  bystander: Bystander;
  /** The customers that renew in the storm. */
  customers: Array<{ userId: string; customerId: string }>;
  /** Compares the database with the sandbox for these customers; returns the differences. */
  mismatches(customers: Array<{ userId: string; customerId: string }>): Promise<string[]>;
  log(message: string): void;
}

/** Advances every storm customer's test clock past its current period end, at once; returns the events emitted. */
async function renewAll(ctx: StormContext): Promise<Stripe.Event[]> {
  const { stripe } = ctx;
  const newest = (await stripe.events.list({ limit: 1 })).data[0]?.id;
  const clocks: Array<{ clockId: string; periodEnd: number }> = [];
  for (const { customerId } of ctx.customers) {
    const customer = (await stripe.customers.retrieve(customerId)) as Stripe.Customer;
    const clockId = typeof customer.test_clock === "string" ? customer.test_clock : (customer.test_clock?.id ?? "");
    const sub = (await stripe.subscriptions.list({ customer: customerId, limit: 1 })).data[0];
    clocks.push({ clockId, periodEnd: sub?.items.data[0]?.current_period_end ?? 0 });
  }
  const target = Math.max(...clocks.map((clock) => clock.periodEnd)) + 3_600;
  for (const { clockId } of clocks) await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: target });
  for (const { clockId } of clocks) {
    while ((await stripe.testHelpers.testClocks.retrieve(clockId)).status !== "ready") await new Promise((r) => setTimeout(r, 10));
  }
  const emitted: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    if (event.id === newest) break;
    emitted.push(event);
  }
  return emitted.reverse(); // the list is newest first; Stripe emitted them oldest first
}

export async function runStormPhase(ctx: StormContext, name: string, pace: ThrottleOptions, tag: string): Promise<StormPhase> {
  const events = await renewAll(ctx);
  ctx.log(`storm ${name}: ${events.length} events from ${ctx.customers.length} renewals`);

  // Quiet reference: the same bystander query with nothing else running.
  const quiet = await ctx.bystander.sample(QUIET_SAMPLES);

  ctx.sandbox.setThrottle(pace);
  const readsBefore = ctx.sandbox.apiRequests("GET", "/v1/subscriptions");
  const requestsBefore = ctx.sandbox.apiRequests();
  const payloads = events.map((event) => {
    const payload = JSON.stringify({ ...event, id: `${event.id}_${tag}` });
    // Signed ahead (Stripe's tolerance is 300 s), so the storm's clock counts only the app's work.
    return { payload, signature: ctx.stripe.webhooks.generateTestHeaderString({ payload, secret: ctx.webhookSecret }) };
  });
  const latencies: number[] = [];
  const failed: number[] = [];
  const stopBystander = ctx.bystander.start();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: STORM_CONCURRENCY }, async () => {
      while (next < payloads.length) {
        const index = next++;
        const item = payloads[index];
        if (!item) continue;
        const t0 = performance.now();
        const status = await ctx.postWebhook(item.payload, item.signature).catch(() => 0);
        latencies.push(performance.now() - t0);
        if (status !== 200) failed.push(index);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const during = await stopBystander();

  // What Stripe does with a failed delivery: send it again later, until it is answered 200.
  let pending = [...failed];
  let rounds = 0;
  while (pending.length > 0 && rounds < 20) {
    rounds += 1;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const retry = pending;
    pending = [];
    for (const index of retry) {
      const item = payloads[index];
      if (!item) continue;
      const signature = ctx.stripe.webhooks.generateTestHeaderString({ payload: item.payload, secret: ctx.webhookSecret });
      if ((await ctx.postWebhook(item.payload, signature).catch(() => 0)) !== 200) pending.push(index);
    }
  }
  const stripeReads = ctx.sandbox.apiRequests("GET", "/v1/subscriptions") - readsBefore;
  const stripeRequests = ctx.sandbox.apiRequests() - requestsBefore;
  ctx.sandbox.setThrottle({});
  if (pending.length > 0) throw new Error(`storm ${name}: ${pending.length} deliveries still failing after ${rounds} rounds`);

  const mismatches = await ctx.mismatches(ctx.customers);
  latencies.sort((a, b) => a - b);
  quiet.sort((a, b) => a - b);
  during.sort((a, b) => a - b);
  const phase: StormPhase = {
    name,
    pace,
    events: events.length,
    eventsPerSec: events.length / seconds,
    webhookP50Ms: percentile(latencies, 50),
    webhookP99Ms: percentile(latencies, 99),
    failedDeliveries: failed.length,
    redeliveryRounds: rounds,
    stripeReadsPerEvent: stripeReads / events.length,
    stripeRequestsPerEvent: stripeRequests / events.length,
    bystander: {
      quietP50Ms: percentile(quiet, 50),
      quietP99Ms: percentile(quiet, 99),
      duringP50Ms: percentile(during, 50),
      duringP99Ms: percentile(during, 99),
      duringSamples: during.length,
      p99Ratio: percentile(during, 99) / percentile(quiet, 99),
    },
    mismatches,
  };
  ctx.log(
    `storm ${name}: ${round(phase.eventsPerSec, 0)} events/s, webhook p99 ${round(phase.webhookP99Ms, 0)} ms, ` +
      `${failed.length} failed first time (${rounds} redelivery rounds), Stripe reads per event ${round(phase.stripeReadsPerEvent)}, ` +
      `bystander p99 ${round(phase.bystander.duringP99Ms)} ms during / ${round(phase.bystander.quietP99Ms)} ms quiet (${round(phase.bystander.p99Ratio)}x), ` +
      `mismatches ${mismatches.length}`,
  );
  return phase;
}

export interface StormResults {
  subscriptions: number;
  concurrency: number;
  warmUp: StormPhase;
  phases: StormPhase[];
}

/** 0 ms, then 250 +/- 100 ms, then 250 +/- 100 ms under 25 requests per second: one renewal each. */
export async function runStorm(ctx: StormContext): Promise<StormResults> {
  // A first renewal warms the server's code paths and connections for a storm's concurrency; it is not compared.
  const warmUp = await runStormPhase(ctx, "warm-up at 0 ms (not compared)", {}, "stormwarm");
  const phases = [
    await runStormPhase(ctx, "0 ms", {}, "storm0"),
    await runStormPhase(ctx, "250 +/- 100 ms", { latencyMs: 250, latencyJitterMs: 100 }, "storm250"),
    await runStormPhase(ctx, "250 +/- 100 ms, 25 req/s", { latencyMs: 250, latencyJitterMs: 100, rateLimit: 25 }, "storm25rps"),
  ];
  return { subscriptions: ctx.customers.length, concurrency: STORM_CONCURRENCY, warmUp, phases };
}

export function stormTargets(storm: StormResults) {
  const [fast, slow, limited] = storm.phases;
  const ratio = fast && slow ? slow.eventsPerSec / fast.eventsPerSec : NaN;
  return [
    { target: "storm: events/s at 250 +/- 100 ms >= 0.8 of events/s at 0 ms (same run)", value: ratio, met: ratio >= 0.8 },
    ...[fast, slow].map((phase) => ({
      target: `storm ${phase?.name}: bystander billing.status p99 during <= 3x its quiet p99`,
      value: phase?.bystander.p99Ratio,
      met: (phase?.bystander.p99Ratio ?? Infinity) <= 3,
    })),
    ...[fast, slow].map((phase) => ({
      target: `storm ${phase?.name}: Stripe reads per event <= 0.25`,
      value: phase?.stripeReadsPerEvent,
      met: (phase?.stripeReadsPerEvent ?? Infinity) <= 0.25,
    })),
    ...storm.phases.map((phase) => ({ target: `storm ${phase.name}: 0 mismatches`, value: phase.mismatches.length, met: phase.mismatches.length === 0 })),
    {
      target: "storm under 25 req/s: converges (every event answered 200 in the end)",
      value: limited ? `${limited.failedDeliveries} failed first, ${limited.redeliveryRounds} rounds` : "not run",
      met: limited ? limited.mismatches.length === 0 : null,
    },
  ];
}

export function stormMarkdown(storm: StormResults): string[] {
  const n = (value: number, digits = 2) => (Number.isFinite(value) ? round(value, digits).toString() : "n/a");
  return [
    `## Renewal storm: ${storm.subscriptions} subscriptions renewing at once, events posted in emission order at concurrency ${storm.concurrency}`,
    "",
    "The sandbox answers the app's Stripe calls at the pace given; a signed-in bystander's `billing.status` is timed throughout each storm and, as its reference, in a quiet phase just before it. Failed deliveries are posted again (as Stripe would) until answered 200.",
    "",
    "| Stripe pace | events | events/s | webhook p50 ms | webhook p99 ms | failed first time | Stripe reads per event | Stripe requests per event | bystander p99 quiet ms | bystander p99 during ms | during / quiet | mismatches |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...[storm.warmUp, ...storm.phases].map(
      (p) =>
        `| ${p.name} | ${p.events} | ${n(p.eventsPerSec, 0)} | ${n(p.webhookP50Ms, 0)} | ${n(p.webhookP99Ms, 0)} | ${p.failedDeliveries} | ${n(p.stripeReadsPerEvent)} | ${n(p.stripeRequestsPerEvent)} | ${n(p.bystander.quietP99Ms)} | ${n(p.bystander.duringP99Ms)} | ${n(p.bystander.p99Ratio)} | ${p.mismatches.length} |`,
    ),
    "",
  ];
}

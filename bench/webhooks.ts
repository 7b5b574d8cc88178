// Webhooks against the trivial route GET /api/health on the same production server, at several concurrencies and
// in two orders of the same events: as Stripe emits them (a customer's events come together: a checkout sends four
// or five within a second) and interleaved, no two neighbours about one customer (no bursts to coalesce).
import type Stripe from "stripe";
import { log, WEBHOOK_SECRET, type BenchContext } from "./context";
import { medianRun, round, timed, type RunResult } from "./stats";

export interface WebhookFigures {
  events: RunResult;
  ceiling: RunResult;
  ratio: number;
  stripeReadsPerEvent: number;
}

type Request = (method: "GET" | "POST", url: string, body?: string, headers?: Record<string, string>) => Promise<{ status: number; ttfbMs: number }>;

export async function measureWebhooks(
  ctx: BenchContext,
  options: { events: Stripe.Event[]; request: Request; base: string; runs: number; eventsPerRun: number },
) {
  const { events, request, base, runs, eventsPerRun } = options;
  const customerOf = (event: Stripe.Event) => {
    const customer = (event.data.object as { customer?: string | { id: string } | null }).customer;
    return typeof customer === "string" ? customer : (customer?.id ?? "");
  };
  const byCustomer = new Map<string, Stripe.Event[]>();
  for (const event of events) byCustomer.set(customerOf(event), [...(byCustomer.get(customerOf(event)) ?? []), event]);
  const interleaved: Stripe.Event[] = [];
  for (let i = 0; interleaved.length < events.length; i++) {
    for (const list of byCustomer.values()) {
      const event = list[i];
      if (event) interleaved.push(event);
    }
  }
  // Each order walks its own list, not the run's index, so every event (and so every customer) is posted across
  // runs; one sequence across all of them keeps every posted event id new (a repeated id is a duplicate no-op).
  let sequence = 0;
  const poster = (order: Stripe.Event[]) => {
    let position = 0;
    return async () => {
      const event = order[position++ % order.length];
      const payload = JSON.stringify({ ...event, id: `${event?.id}_bench${sequence++}` });
      const signature = ctx.stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      return (await request("POST", `${base}/api/webhooks/stripe`, payload, { "stripe-signature": signature })).status === 200;
    };
  };
  const trivial = async () => (await request("GET", `${base}/api/health`)).status === 200;
  await timed(60, 4, poster(events)); // warm-up
  const figures: Record<string, WebhookFigures> = {};
  // Syncs of one customer share a read in flight (server/billing/stripe-reads.ts): how often, is counted on the
  // sandbox, as Stripe reads per event.
  const stripeReads = () => ctx.sandbox.apiRequests("GET", "/v1/subscriptions");
  const plan: Array<[string, number, () => Promise<boolean>]> = [
    ["c1", 1, poster(events)],
    ["c4", 4, poster(events)],
    ["c16", 16, poster(events)],
    ["c16 interleaved", 16, poster(interleaved)],
  ];
  for (const [name, concurrency, postEvent] of plan) {
    const eventRuns: RunResult[] = [];
    const ceilingRuns: RunResult[] = [];
    const readsBefore = stripeReads();
    for (let r = 0; r < runs; r++) {
      ceilingRuns.push(await timed(eventsPerRun, concurrency, trivial));
      eventRuns.push(await timed(eventsPerRun, concurrency, postEvent));
    }
    const e = medianRun(eventRuns);
    const c = medianRun(ceilingRuns);
    const stripeReadsPerEvent = (stripeReads() - readsBefore) / (runs * eventsPerRun);
    figures[name] = { events: e, ceiling: c, ratio: e.opsPerSec / c.opsPerSec, stripeReadsPerEvent };
    log(`webhooks ${name}: ${round(e.opsPerSec, 0)} events/s p50 ${round(e.p50)} p95 ${round(e.p95)} p99 ${round(e.p99)} ms (errors ${e.errors}); ceiling ${round(c.opsPerSec, 0)} req/s; ratio ${round(e.opsPerSec / c.opsPerSec)}; Stripe reads per event ${round(stripeReadsPerEvent)}`);
  }
  return { figures, posted: () => sequence };
}

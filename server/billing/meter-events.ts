// The overage meter events' outbox (the email outbox's shape): an answer that used overage tokens writes one row when
// it settles, keyed by its chat request id, and the meter deliverer sends it to Stripe after, so the chat never waits
// on Stripe and a Stripe outage only delays billing. Each row is retried with backoff until Stripe accepts it. The
// request id is also the event's `identifier`: Stripe counts an identifier once, so a resend after a lost answer (or
// a crash before the row was marked sent) bills once, and Stripe's "already exists" counts as delivered.
import Stripe from "stripe";
import type { Db, Executor } from "@/db/client";
import { getDb } from "@/db/index";
import {
  claimDueMeterEvents,
  insertMeterEvent,
  listUnsentMeterEvents,
  markMeterEventFailed,
  markMeterEventRetry,
  markMeterEventSent,
  type MeterEventEntry,
} from "@/db/queries/overage";
import type { MeterEventOutboxRow } from "@/db/schema";
import { retryDelayMs } from "@/server/mail/outbox";
import { kickPeriodicWorker, startPeriodicWorker, type PeriodicWorker } from "@/server/ops/periodic-worker";
import { getStripe } from "./stripe-client";

const WORKER = "meter-events";

/** Adds an answer's overage to the outbox (inside the caller's transaction, if any); false when it was already there. */
export function enqueueMeterEvent(db: Executor, entry: MeterEventEntry): Promise<boolean> {
  return insertMeterEvent(db, entry);
}

export interface MeterDeliveryDeps {
  db: Db;
  stripe: Stripe;
  now?: () => Date;
  batchSize?: number;
  /** How long a taken row stays with this deliverer before another may retry it. */
  leaseMs?: number;
}

export interface MeterDeliveryReport {
  sent: number;
  retrying: number;
  failed: number;
}

/**
 * Stripe's refusals that no retry can cure: the customer is gone, or the event is too old for the meter (35 days).
 * Everything else (no meter yet, a network error, a 5xx, a rate limit) is retried until Stripe accepts.
 */
const permanentRefusals = new Set(["meter_event_customer_not_found", "meter_event_no_customer_defined", "meter_event_invalid_value", "timestamp_too_far_in_past"]);

type Outcome = "sent" | "retrying" | "failed";

async function sendOne(row: MeterEventOutboxRow, deps: MeterDeliveryDeps, now: () => Date): Promise<Outcome> {
  try {
    await deps.stripe.billing.meterEvents.create({
      event_name: row.eventName,
      identifier: row.id,
      timestamp: Math.floor(row.occurredAt.getTime() / 1000),
      payload: { stripe_customer_id: row.stripeCustomerId, value: String(row.tokens) },
    });
  } catch (error) {
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_already_exists") {
      // An earlier attempt reached Stripe and its answer was lost: the identifier is already counted.
      await markMeterEventSent(deps.db, row.id, now());
      return "sent";
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Stripe.errors.StripeInvalidRequestError && permanentRefusals.has(error.code ?? "")) {
      console.error(`[meter] event ${row.id} refused for good (${error.code}): ${message}`);
      await markMeterEventFailed(deps.db, row.id, now(), message);
      return "failed";
    }
    const next = new Date(now().getTime() + retryDelayMs(row.attempts));
    console.warn(`[meter] event ${row.id} not sent, attempt ${row.attempts}; retrying at ${next.toISOString()}: ${message}`);
    await markMeterEventRetry(deps.db, row.id, next, message);
    return "retrying";
  }
  await markMeterEventSent(deps.db, row.id, now());
  return "sent";
}

/** Sends every due meter event once (in batches); failures are rescheduled. */
export async function deliverDueMeterEvents(deps: MeterDeliveryDeps): Promise<MeterDeliveryReport> {
  const now = deps.now ?? (() => new Date());
  const batchSize = deps.batchSize ?? 50;
  const leaseMs = deps.leaseMs ?? 5 * 60 * 1000;
  const report: MeterDeliveryReport = { sent: 0, retrying: 0, failed: 0 };
  const seen = new Set<string>();
  for (;;) {
    const started = now();
    const batch = await claimDueMeterEvents(deps.db, started, new Date(started.getTime() + leaseMs), batchSize);
    const fresh = batch.filter((row) => !seen.has(row.id));
    if (fresh.length === 0) return report;
    for (const row of fresh) {
      seen.add(row.id);
      report[await sendOne(row, deps, now)] += 1;
    }
    if (batch.length < batchSize) return report;
  }
}

/**
 * Sends one user's unsent events now, whatever their next attempt (before their subscription's final invoice, which
 * bills only what Stripe has by then). A row the deliverer holds at the same moment may be sent twice: Stripe counts
 * its identifier once.
 */
export async function sendUserMeterEvents(userId: string, deps: Omit<MeterDeliveryDeps, "batchSize" | "leaseMs">): Promise<MeterDeliveryReport> {
  const now = deps.now ?? (() => new Date());
  const report: MeterDeliveryReport = { sent: 0, retrying: 0, failed: 0 };
  for (const row of await listUnsentMeterEvents(deps.db, userId)) report[await sendOne(row, deps, now)] += 1;
  return report;
}

/** Started with the server when overage is on (instrumentation.ts): sends due meter events every few seconds. */
export function startMeterEventDeliverer(options: { intervalMs?: number; deps?: () => Promise<MeterDeliveryDeps> } = {}): PeriodicWorker {
  const resolveDeps = options.deps ?? (async () => ({ db: await getDb(), stripe: getStripe() }));
  return startPeriodicWorker(WORKER, async () => deliverDueMeterEvents(await resolveDeps()), options.intervalMs ?? 5_000);
}

/** Call after an answer enqueued a meter event: sends it now instead of at the next tick. */
export function kickMeterEventDelivery(): void {
  kickPeriodicWorker(WORKER);
}

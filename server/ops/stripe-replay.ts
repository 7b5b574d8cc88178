// Replays the events Stripe could not deliver (`GET /v1/events?delivery_success=false`) through the webhook route's
// own path (receiveStripeWebhook: verify, dedupe by event id, dispatch), oldest first. Idempotent: an event the app
// already recorded is a "duplicate" and changes nothing, so replaying twice, or while Stripe's own retries still
// arrive, is safe. Behind `npm run stripe:replay -- --since <date>`.
import type Stripe from "stripe";
import { getStripe, getWebhookSecrets } from "@/server/billing/stripe-client";
import { receiveStripeWebhook } from "@/server/billing/webhooks/receive-webhook";
import type { WebhookOutcome } from "@/server/billing/webhooks/process-webhook";
import { messageOf } from "./log";
import { runWithRequestId } from "./request-context";

/** Stripe lists undelivered events for 30 days. */
export const REPLAY_WINDOW_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export class ReplayInputError extends Error {
  override name = "ReplayInputError";
}

/**
 * The start of a replay from `--since`: a date (2026-11-30, midnight UTC) or an ISO time with its zone
 * (2026-11-30T14:00:00Z). Refused: anything else, a date that does not exist, the future, and more than 30 days ago.
 */
export function parseReplaySince(value: string | undefined, now: Date = new Date()): Date {
  if (!value) throw new ReplayInputError("Missing --since <date>: npm run stripe:replay -- --since 2026-11-30 (or an ISO time such as 2026-11-30T14:00:00Z).");
  const match = DATE.exec(value.trim());
  const since = match ? new Date(match[4] ? value.trim() : `${value.trim()}T00:00:00Z`) : null;
  // The calendar check catches 2026-02-30, which Date would roll over into March.
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const exists = since && !Number.isNaN(since.getTime()) && new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day && month >= 1 && month <= 12;
  if (!since || !exists) {
    throw new ReplayInputError(`--since "${value}" is not a date: use YYYY-MM-DD (UTC) or an ISO time with its zone, such as 2026-11-30T14:00:00Z.`);
  }
  if (since.getTime() > now.getTime()) throw new ReplayInputError(`--since ${since.toISOString()} is in the future (now is ${now.toISOString()}).`);
  const oldest = new Date(now.getTime() - REPLAY_WINDOW_DAYS * DAY_MS);
  if (since.getTime() < oldest.getTime()) {
    throw new ReplayInputError(
      `--since ${since.toISOString()} is more than ${REPLAY_WINDOW_DAYS} days ago: Stripe lists undelivered events for ${REPLAY_WINDOW_DAYS} days only ` +
        `(the oldest --since now is ${oldest.toISOString()}). For anything older, run npm run stripe:resync.`,
    );
  }
  return since;
}

export interface ReplayedEvent {
  id: string;
  type: string;
  outcome: WebhookOutcome["status"] | "failed";
  error?: string;
}

export interface ReplayReport {
  events: ReplayedEvent[];
  processed: number;
  /** Recorded before (delivered or replayed already): nothing changed. */
  alreadyDone: number;
  /** Types the app does not handle, or events of the other Stripe mode: nothing to do. */
  ignored: number;
  failed: number;
}

export interface ReplayDeps {
  stripe: Stripe;
  /** The secret the replayed payloads are signed with, so they pass the same verification as a delivery. */
  webhookSecret: string;
  /** Called after each event, for progress output. */
  onEvent?: (event: ReplayedEvent) => void;
}

/** Every undelivered event created at or after `since`, oldest first (Stripe lists newest first). */
export async function listUndeliveredEvents(stripe: Stripe, since: Date): Promise<Stripe.Event[]> {
  const events: Stripe.Event[] = [];
  const pages = stripe.events.list({ delivery_success: false, created: { gte: Math.floor(since.getTime() / 1000) }, limit: 100 });
  for await (const event of pages) events.push(event);
  // Reversing keeps Stripe's order among events of the same second (`created` has one-second resolution).
  return events.reverse();
}

export async function replayUndeliveredEvents(since: Date, partial: Partial<ReplayDeps> = {}): Promise<ReplayReport> {
  const stripe = partial.stripe ?? getStripe();
  const webhookSecret = partial.webhookSecret ?? getWebhookSecrets()[0];
  if (!webhookSecret) throw new ReplayInputError("No webhook signing secret is configured (STRIPE_WEBHOOK_SECRET).");
  const report: ReplayReport = { events: [], processed: 0, alreadyDone: 0, ignored: 0, failed: 0 };
  for (const event of await listUndeliveredEvents(stripe, since)) {
    const payload = JSON.stringify(event);
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
    let replayed: ReplayedEvent;
    try {
      // Each replayed event is its own "request" in the logs and traces: replay:<event id>.
      const outcome = await runWithRequestId(`replay:${event.id}`, () => receiveStripeWebhook(payload, signature, { stripe }));
      replayed = { id: event.id, type: event.type, outcome: outcome.status };
    } catch (error) {
      replayed = { id: event.id, type: event.type, outcome: "failed", error: messageOf(error) };
    }
    report.events.push(replayed);
    if (replayed.outcome === "processed") report.processed++;
    else if (replayed.outcome === "duplicate") report.alreadyDone++;
    else if (replayed.outcome === "ignored") report.ignored++;
    else report.failed++;
    partial.onEvent?.(replayed);
  }
  return report;
}

// Verifies, dedupes and applies one Stripe webhook delivery. The event id is recorded in the same
// transaction as the state it causes, so a crash leaves neither; a redelivered id is a no-op. Throws AppError
// BAD_REQUEST for anything unsigned, tampered or malformed (nothing written; Stripe stops retrying); any other
// error means "retry later". An event from the other mode (live vs test) than the secret key's is ignored.
import { performance } from "node:perf_hooks";
import Stripe from "stripe";
import { isStripeEventRecorded } from "@/db/queries/billing";
import { AppError } from "@/server/errors";
import { log } from "@/server/ops/log";
import type { BudgetStore } from "@/server/usage";
import { getWebhookSecrets, stripeKeyIsLive } from "../stripe-client";
import { billingWork } from "../work-limit";
import { syncCreditPackPayment, syncCreditPackSession } from "../credit-packs";
import { claimAlone, resolveSyncDeps, syncSubscriptionFromStripe, type SyncDeps } from "../sync-subscription";
import { followTestClock } from "../test-clocks";
import { dispatchEvent, handledEventObjects, isHandledEvent, type HandledEvent, type HandlerOutcome } from "./handlers";

export type WebhookOutcome =
  | { status: "processed"; eventId: string; type: string; result: HandlerOutcome }
  | { status: "duplicate"; eventId: string }
  | { status: "ignored"; eventId: string; type: string; reason: "unhandled-type" | "other-mode" };

export interface WebhookDeps extends SyncDeps {
  /** The endpoint's signing secret; during a rotation two (new, old): a delivery signed with either is accepted. */
  webhookSecret: string | readonly string[];
  /** Whether the secret key is a live one (sk_live_/rk_live_): events of the other mode are ignored. */
  livemode: boolean;
}

export async function processStripeWebhook(
  rawBody: string,
  signature: string | null,
  partial: Partial<WebhookDeps> = {},
): Promise<WebhookOutcome> {
  const receivedAt = performance.now();
  const deps = {
    ...(await resolveSyncDeps(partial)),
    webhookSecret: partial.webhookSecret ?? getWebhookSecrets(),
    livemode: partial.livemode ?? stripeKeyIsLive(),
  };
  // Verifying (HMAC, JSON) and the redelivery check take a turn of the process's billing work (see work-limit).
  const early = await billingWork.run(async (): Promise<{ done: WebhookOutcome } | { event: HandledEvent }> => {
    const event = verifyEvent(rawBody, signature, deps);
    const malformed = malformedReason(event);
    if (malformed) {
      // Logged once, with this reason, by receive-webhook's "stripe webhook processed" line (outcome "refused").
      throw new AppError("BAD_REQUEST", `Malformed event: ${malformed}.`);
    }
    if (typeof event.livemode === "boolean" && event.livemode !== deps.livemode) {
      // A test-mode event sent to a live endpoint (or the reverse): a misconfigured endpoint, never state to apply.
      log.warn(
        { eventId: event.id, type: event.type, eventMode: event.livemode ? "live" : "test", keyMode: deps.livemode ? "live" : "test" },
        "stripe webhook ignored: the event's mode is not the secret key's",
      );
      return { done: { status: "ignored", eventId: event.id, type: event.type, reason: "other-mode" } };
    }
    if (!isHandledEvent(event)) return { done: { status: "ignored", eventId: event.id, type: event.type, reason: "unhandled-type" } };
    // A redelivery stops here before Stripe is read; the claim made with the write still decides between two
    // deliveries that pass this check together.
    if (await isStripeEventRecorded(deps.db, event.id)) return { done: { status: "duplicate", eventId: event.id } };
    return { event };
  });
  if ("done" in early) return early.done;
  const { event } = early;
  const claim = { id: event.id, type: event.type, customerId: customerIdOf(event) };
  // A test's budget without the pack API (only what the sync uses) leaves packs to the process's store.
  const packDeps = { db: deps.db, stripe: deps.stripe, appUrl: deps.appUrl, now: deps.now, ...(hasPackApi(partial.budget) ? { budget: partial.budget } : {}) };
  const result = await dispatchEvent(event, {
    sync: (customerId) => syncSubscriptionFromStripe(customerId, deps, { arrivedAt: receivedAt, event: claim }),
    followTestClock: (clock) => followTestClock(clock, deps),
    creditPackSession: (sessionId) => syncCreditPackSession(sessionId, packDeps),
    creditPackPayment: (paymentIntentId) => syncCreditPackPayment(paymentIntentId, packDeps),
  });
  if (result.outcome === "duplicate-event") return { status: "duplicate", eventId: event.id };
  // Events that change no subscription are recorded on their own, after their work (a clock's time write is
  // idempotent by itself, a credit pack's grant is once per payment): a failure leaves them unrecorded, Stripe retries.
  if (!claimedBySync.has(result.outcome) && !(await claimAlone(deps, claim))) return { status: "duplicate", eventId: event.id };
  if (result.outcome === "unknown-customer" || result.outcome === "no-customer") {
    log.warn({ eventId: event.id, type: event.type, outcome: result.outcome }, "stripe webhook: nothing to update");
  }
  return { status: "processed", eventId: event.id, type: event.type, result };
}

/** Sync outcomes whose transaction recorded the event already (see syncSubscriptionFromStripe). */
const claimedBySync: ReadonlySet<HandlerOutcome["outcome"]> = new Set(["synced", "already-current", "unknown-customer"]);

const hasPackApi = (budget: WebhookDeps["budget"] | undefined): budget is WebhookDeps["budget"] & Pick<BudgetStore, "grantPack" | "revokePack"> =>
  budget !== undefined && "grantPack" in budget && "revokePack" in budget;

function verifyEvent(rawBody: string, signature: string | null, deps: WebhookDeps): Stripe.Event {
  if (!signature) throw new AppError("BAD_REQUEST", "Missing Stripe-Signature header.");
  const secrets = typeof deps.webhookSecret === "string" ? [deps.webhookSecret] : deps.webhookSecret;
  let refusal: unknown = new Error("No webhook signing secret is configured.");
  for (const secret of secrets) {
    try {
      // Default tolerance: 300 s. Older signatures are replays and are refused.
      return deps.stripe.webhooks.constructEvent(rawBody, signature, secret);
    } catch (error) {
      // Not signed with this secret: during a rotation the other one may match.
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        refusal = error;
        continue;
      }
      if (error instanceof SyntaxError) throw new AppError("BAD_REQUEST", "The event body is not valid JSON.", { cause: error });
      throw error;
    }
  }
  throw new AppError("BAD_REQUEST", "Invalid Stripe signature.", { cause: refusal });
}

const expectedObjects: ReadonlyMap<string, string> = new Map(Object.entries(handledEventObjects));

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Why a correctly signed event cannot be an event (the signature proves who sent it, not its shape): constructEvent
 * only parses JSON. Null when it has what the handlers read: id, type, livemode, data.object of the right kind.
 */
function malformedReason(event: unknown): string | null {
  if (!isRecord(event)) return "the body is not a JSON object";
  const id = typeof event.id === "string" && event.id !== "" ? event.id : null;
  const label = id ? `event ${id}` : "event";
  if (!id) return "event without an id";
  if (typeof event.type !== "string" || event.type === "") return `${label} without a type`;
  if (event.livemode !== undefined && typeof event.livemode !== "boolean") return `${label} (${event.type}) with a livemode that is not a boolean`;
  if (!isRecord(event.data)) return `${label} (${event.type}) without data`;
  if (!isRecord(event.data.object)) return `${label} (${event.type}) without data.object`;
  const expected = expectedObjects.get(event.type);
  const actual = event.data.object.object;
  if (expected && actual !== expected) {
    return `${label} (${event.type}) carries ${typeof actual === "string" ? `object "${actual}"` : "no object type"}, not "${expected}"`;
  }
  return null;
}

function customerIdOf(event: HandledEvent): string | null {
  const customer: unknown = "customer" in event.data.object ? event.data.object.customer : null;
  if (typeof customer === "string") return customer;
  if (customer && typeof customer === "object" && "id" in customer && typeof customer.id === "string") return customer.id;
  return null;
}

// Verifies, dedupes and applies one Stripe webhook delivery. The event id is recorded in the same
// transaction as the state it causes, so a crash leaves neither; a redelivered id is a no-op. Throws AppError
// BAD_REQUEST for anything unsigned or tampered (nothing written); any other error means "retry later".
import { performance } from "node:perf_hooks";
import Stripe from "stripe";
import { isStripeEventRecorded } from "@/db/queries/billing";
import { AppError } from "@/server/errors";
import { getWebhookSecret } from "../stripe-client";
import { billingWork } from "../work-limit";
import { claimAlone, resolveSyncDeps, syncSubscriptionFromStripe, type SyncDeps } from "../sync-subscription";
import { dispatchEvent, isHandledEvent, type HandledEvent, type HandlerOutcome } from "./handlers";

export type WebhookOutcome =
  | { status: "processed"; eventId: string; type: string; result: HandlerOutcome }
  | { status: "duplicate"; eventId: string }
  | { status: "ignored"; eventId: string; type: string };

export interface WebhookDeps extends SyncDeps {
  webhookSecret: string;
}

export async function processStripeWebhook(
  rawBody: string,
  signature: string | null,
  partial: Partial<WebhookDeps> = {},
): Promise<WebhookOutcome> {
  const receivedAt = performance.now();
  const deps = { ...(await resolveSyncDeps(partial)), webhookSecret: partial.webhookSecret ?? getWebhookSecret() };
  // Verifying (HMAC, JSON) and the redelivery check take a turn of the process's billing work (see work-limit).
  const early = await billingWork.run(async (): Promise<{ done: WebhookOutcome } | { event: HandledEvent }> => {
    const event = verifyEvent(rawBody, signature, deps);
    if (!isHandledEvent(event)) return { done: { status: "ignored", eventId: event.id, type: event.type } };
    // A redelivery stops here before Stripe is read; the claim made with the write still decides between two
    // deliveries that pass this check together.
    if (await isStripeEventRecorded(deps.db, event.id)) return { done: { status: "duplicate", eventId: event.id } };
    return { event };
  });
  if ("done" in early) return early.done;
  const { event } = early;
  const claim = { id: event.id, type: event.type, customerId: customerIdOf(event) };
  const result = await dispatchEvent(event, {
    sync: (customerId) => syncSubscriptionFromStripe(customerId, deps, { arrivedAt: receivedAt, event: claim }),
  });
  if (result.outcome === "duplicate-event") return { status: "duplicate", eventId: event.id };
  if (result.outcome === "no-customer" && !(await claimAlone(deps, claim))) return { status: "duplicate", eventId: event.id };
  if (result.outcome === "unknown-customer" || result.outcome === "no-customer") {
    console.warn(`stripe webhook ${event.id} (${event.type}): ${result.outcome}, nothing to update`);
  }
  return { status: "processed", eventId: event.id, type: event.type, result };
}

function verifyEvent(rawBody: string, signature: string | null, deps: WebhookDeps): Stripe.Event {
  if (!signature) throw new AppError("BAD_REQUEST", "Missing Stripe-Signature header.");
  try {
    // Default tolerance: 300 s. Older signatures are replays and are refused.
    return deps.stripe.webhooks.constructEvent(rawBody, signature, deps.webhookSecret);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
      throw new AppError("BAD_REQUEST", "Invalid Stripe signature.", { cause: error });
    }
    if (error instanceof SyntaxError) throw new AppError("BAD_REQUEST", "The event body is not valid JSON.", { cause: error });
    throw error;
  }
}

function customerIdOf(event: HandledEvent): string | null {
  const customer: unknown = "customer" in event.data.object ? event.data.object.customer : null;
  if (typeof customer === "string") return customer;
  if (customer && typeof customer === "object" && "id" in customer && typeof customer.id === "string") return customer.id;
  return null;
}

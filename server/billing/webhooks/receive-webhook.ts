// One webhook delivery as operators see it: processStripeWebhook inside a "stripe.webhook" span, and one log line,
// "stripe webhook processed", with the event id, type, outcome and duration (the request id comes with the log
// context). The route and `npm run stripe:replay` both go through here. Adds no behaviour: same result, same errors.
import { performance } from "node:perf_hooks";
import { AppError } from "@/server/errors";
import { log } from "@/server/ops/log";
import { inSpan } from "@/server/ops/telemetry";
import { processStripeWebhook, type WebhookDeps, type WebhookOutcome } from "./process-webhook";

/** What happened to a delivery, in one word: the log's `outcome` and the span's `hourglass.webhook.outcome`. */
export type DeliveryOutcome = "processed" | "duplicate" | "ignored" | "refused" | "failed";

export async function receiveStripeWebhook(
  rawBody: string,
  signature: string | null,
  deps: Partial<WebhookDeps> = {},
): Promise<WebhookOutcome> {
  const startedAt = performance.now();
  return inSpan("stripe.webhook", {}, async (span) => {
    const elapsed = () => Math.round((performance.now() - startedAt) * 10) / 10;
    try {
      const result = await processStripeWebhook(rawBody, signature, deps);
      const type = "type" in result ? result.type : claimedEvent(rawBody).type;
      const detail = result.status === "processed" ? result.result.outcome : result.status === "ignored" ? result.reason : undefined;
      span.setAttributes({
        "stripe.event_id": result.eventId,
        ...(type ? { "stripe.event_type": type } : {}),
        "hourglass.webhook.outcome": result.status,
        ...(detail ? { "hourglass.webhook.detail": detail } : {}),
      });
      log.info({ eventId: result.eventId, type, outcome: result.status, detail, durationMs: elapsed() }, "stripe webhook processed");
      return result;
    } catch (error) {
      // Refused: unsigned, tampered or malformed (400, Stripe stops). Failed: anything else (500, Stripe retries).
      const outcome: DeliveryOutcome = error instanceof AppError && error.code === "BAD_REQUEST" ? "refused" : "failed";
      // The body's own id and type; for a refused delivery they are unverified, so the log says "claimed".
      const { id, type } = claimedEvent(rawBody);
      span.setAttributes({
        ...(id ? { "stripe.event_id": id } : {}),
        ...(type ? { "stripe.event_type": type } : {}),
        "hourglass.webhook.outcome": outcome,
      });
      const fields = { eventId: id, type, outcome, durationMs: elapsed(), ...(outcome === "refused" ? { unverified: true } : {}) };
      if (outcome === "refused") log.warn({ ...fields, reason: error instanceof Error ? error.message : String(error) }, "stripe webhook processed");
      else log.error({ ...fields, err: error }, "stripe webhook processed");
      throw error;
    }
  });
}

/** The id and type a body says it has, if it is a JSON object with them; never throws. */
function claimedEvent(rawBody: string): { id?: string; type?: string } {
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (typeof parsed !== "object" || parsed === null) return {};
    const id = "id" in parsed && typeof parsed.id === "string" ? parsed.id.slice(0, 255) : undefined;
    const type = "type" in parsed && typeof parsed.type === "string" ? parsed.type.slice(0, 255) : undefined;
    return { id, type };
  } catch {
    return {};
  }
}

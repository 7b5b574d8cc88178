import { errorResponse } from "@/server/errors";
import { BYTE_LIMITS, guardRequest } from "@/server/http/request-guards";
import { receiveStripeWebhook } from "@/server/billing/webhooks/receive-webhook";
import { withRequestId } from "@/server/ops/request-context";

// Signature checks need the exact bytes Stripe signed, and crypto needs Node: no edge, no caching.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  // Every log line and span of this delivery names its request id, which also goes back in X-Request-Id.
  return withRequestId(request, async () => {
    // At most 1 MB is read (413 past it, on Content-Length or mid-stream); no origin check: Stripe signs instead.
    const guarded = await guardRequest(request, { sameOrigin: false, maxBytes: BYTE_LIMITS.webhook });
    if (!guarded.ok) return guarded.response;
    const rawBody = new TextDecoder().decode(guarded.body);
    try {
      const outcome = await receiveStripeWebhook(rawBody, request.headers.get("stripe-signature"));
      return Response.json({ received: true, status: outcome.status });
    } catch (error) {
      // 400 for bad signatures (Stripe stops); 500 for anything transient, so Stripe retries.
      return errorResponse(error);
    }
  });
}

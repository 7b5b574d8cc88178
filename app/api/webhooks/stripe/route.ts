import { errorResponse } from "@/server/errors";
import { processStripeWebhook } from "@/server/billing/webhooks/process-webhook";

// Signature checks need the exact bytes Stripe signed, and crypto needs Node: no edge, no caching.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  const rawBody = await request.text();
  try {
    const outcome = await processStripeWebhook(rawBody, request.headers.get("stripe-signature"));
    return Response.json({ received: true, status: outcome.status });
  } catch (error) {
    // 400 for bad signatures (Stripe stops); 500 for anything transient, so Stripe retries.
    return errorResponse(error);
  }
}

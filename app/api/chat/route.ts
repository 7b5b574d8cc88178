import { getSessionUserId } from "@/server/auth";
import { startChat } from "@/server/chat/chat-request";
import { errorResponse } from "@/server/errors";
import { BYTE_LIMITS, guardRequest } from "@/server/http/request-guards";
import { withRequestId } from "@/server/ops/request-context";

// The budget store, the tokenizer and the session cookie need Node; every answer is per user, never cached.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// A long answer from a slow model streams for a while; serverless hosts cut functions off at their default (often 10-15 s).
export const maxDuration = 60;

export async function POST(request: Request): Promise<Response> {
  return withRequestId(request, async () => {
    // Edge checks first: this app's pages only (403), JSON only (415), at most 256 kB read (413).
    const guarded = await guardRequest(request, { sameOrigin: true, contentTypes: ["application/json"], maxBytes: BYTE_LIMITS.chat });
    if (!guarded.ok) return guarded.response;
    try {
      const userId = await getSessionUserId();
      return await startChat(guarded.request, userId ? { userId } : null);
    } catch (error) {
      // 401 / 400 / 402 / 429 (with Retry-After) / 503 from the AppError the chat threw; anything else is a logged 500.
      return errorResponse(error);
    }
  });
}

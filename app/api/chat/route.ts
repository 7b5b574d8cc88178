import { getSessionUserId } from "@/server/auth";
import { startChat } from "@/server/chat/chat-request";
import { errorResponse } from "@/server/errors";

// The budget store, the tokenizer and the session cookie need Node; every answer is per user, never cached.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// A long answer from a slow model streams for a while; serverless hosts cut functions off at their default (often 10-15 s).
export const maxDuration = 60;

export async function POST(request: Request): Promise<Response> {
  try {
    const userId = await getSessionUserId();
    return await startChat(request, userId ? { userId } : null);
  } catch (error) {
    // 401 / 400 / 402 / 429 (with Retry-After) / 503 from the AppError the chat threw; anything else is a logged 500.
    return errorResponse(error);
  }
}

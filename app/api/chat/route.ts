import { getSessionUserId } from "@/server/auth";
import { handleChatRequest } from "@/server/chat/chat-request";

// The budget store, the tokenizer and the session cookie need Node; every answer is per user, never cached.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// A long answer from a slow model streams for a while; serverless hosts cut functions off at their default (often 10-15 s).
export const maxDuration = 60;

export async function POST(request: Request): Promise<Response> {
  const userId = await getSessionUserId();
  return handleChatRequest(request, userId ? { userId } : null);
}

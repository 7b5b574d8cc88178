import { NextRequest } from "next/server";
import { handlers } from "@/server/auth";
import { BYTE_LIMITS, guardRequest } from "@/server/http/request-guards";

export const { GET } = handlers;

// Auth.js's own CSRF token covers its forms; the origin check and byte cap are the same as every other write.
export async function POST(request: NextRequest): Promise<Response> {
  const guarded = await guardRequest(request, { sameOrigin: true, maxBytes: BYTE_LIMITS.auth });
  if (!guarded.ok) return guarded.response;
  return handlers.POST(new NextRequest(guarded.request));
}

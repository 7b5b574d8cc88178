// Turns what `useChat` reports as an error into the state the page shows. A refused request surfaces as an Error
// whose message is the response body (see the AI SDK's DefaultChatTransport), which for /api/chat is JSON in the
// shape of `chatErrorBodySchema`; anything else (network, a failed stream, an HTML error page) is generic.
import { chatErrorBodySchema } from "@/server/chat/chat-ui-message";

export type ChatFailure =
  | { kind: "payment-required"; pricingUrl: string }
  | { kind: "budget-exhausted"; resetsAt: string | null }
  /** A 429 with tokens left: this conversation alone needs more than remains. */
  | { kind: "conversation-too-long"; message: string }
  | { kind: "bad-request"; message: string }
  | { kind: "unauthorized" }
  | { kind: "unavailable" }
  | { kind: "unknown" };

export function describeChatFailure(error: Error): ChatFailure {
  let json: unknown;
  try {
    json = JSON.parse(error.message);
  } catch {
    return { kind: "unknown" };
  }
  const parsed = chatErrorBodySchema.safeParse(json);
  if (!parsed.success) return { kind: "unknown" };
  const body = parsed.data.error;
  switch (body.code) {
    case "PAYMENT_REQUIRED":
      return { kind: "payment-required", pricingUrl: body.pricingUrl };
    case "TOO_MANY_REQUESTS":
      return body.tokensRemaining > 0
        ? { kind: "conversation-too-long", message: body.message }
        : { kind: "budget-exhausted", resetsAt: body.resetsAt };
    case "BAD_REQUEST":
      return { kind: "bad-request", message: body.message };
    case "UNAUTHORIZED":
      return { kind: "unauthorized" };
    case "SERVICE_UNAVAILABLE":
      return { kind: "unavailable" };
    case "INTERNAL_SERVER_ERROR":
      return { kind: "unknown" };
  }
}

// Turns what `useChat` reports as an error into the state the page shows. A refused request surfaces as an Error
// whose message is the response body (see the AI SDK's DefaultChatTransport), which for /api/chat is JSON in the
// shape of `chatErrorBodySchema`; anything else (network, a failed stream, an HTML error page) is generic.
import { chatErrorBodySchema } from "@/lib/chat-wire";

export type ChatFailure =
  | { kind: "payment-required"; pricingUrl: string }
  /** A 402 for a past-due plan whose grace is over: pay the open invoice (or update the card) to chat again. */
  | { kind: "payment-overdue"; invoiceUrl: string | null; message: string }
  /** A 429: nothing left, or (with tokens left) less than this conversation's prompt needs. */
  | { kind: "over-budget"; tokensRemaining: number; resetsAt: string | null; message: string }
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
      return body.accountUrl !== undefined
        ? { kind: "payment-overdue", invoiceUrl: body.invoiceUrl ?? null, message: body.message }
        : { kind: "payment-required", pricingUrl: body.pricingUrl ?? "/pricing" };
    case "TOO_MANY_REQUESTS":
      return { kind: "over-budget", tokensRemaining: body.tokensRemaining, resetsAt: body.resetsAt, message: body.message };
    case "BAD_REQUEST":
    case "FORBIDDEN":
    case "NOT_FOUND":
      return { kind: "bad-request", message: body.message };
    case "UNAUTHORIZED":
      return { kind: "unauthorized" };
    case "SERVICE_UNAVAILABLE":
      return { kind: "unavailable" };
    case "INTERNAL_SERVER_ERROR":
      return { kind: "unknown" };
  }
}

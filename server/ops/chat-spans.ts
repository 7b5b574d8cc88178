// The "chat" span: one per answer, from its reservation to its settlement, with the model, the prompt, the tokens
// reserved, the tokens the model reported and the tokens charged to the budget. The chat starts it once the budget
// granted the reservation and ends it at the settlement, whichever of finish, abort or error brings that.
import type { LanguageModelUsage } from "ai";
import { failSpan, startSpan } from "./telemetry";

export interface ChatSpan {
  /** The model's own count, when the answer finished and it reported one. */
  usage(usage: LanguageModelUsage | undefined): void;
  /** Ends the span with the charge; `tokensRemaining` is null when the settlement failed (the reservation stays charged). */
  settled(tokensCharged: number, tokensRemaining: number | null, error?: unknown): void;
}

export function startChatSpan(attributes: {
  userId: string;
  chatRequestId: string;
  /** The app's model id (lib/chat-models), which names the provider's model. */
  modelId: string;
  promptTokens: number;
  reservedTokens: number;
}): ChatSpan {
  const span = startSpan("chat", {
    "hourglass.user_id": attributes.userId,
    "hourglass.chat_request_id": attributes.chatRequestId,
    "gen_ai.request.model": attributes.modelId,
    "chat.prompt_tokens": attributes.promptTokens,
    "chat.tokens_reserved": attributes.reservedTokens,
  });
  let ended = false;
  return {
    usage(usage) {
      if (usage?.inputTokens !== undefined) span.setAttribute("gen_ai.usage.input_tokens", usage.inputTokens);
      if (usage?.outputTokens !== undefined) span.setAttribute("gen_ai.usage.output_tokens", usage.outputTokens);
    },
    settled(tokensCharged, tokensRemaining, error) {
      if (ended) return;
      ended = true;
      span.setAttribute("chat.tokens_charged", tokensCharged);
      if (tokensRemaining !== null) span.setAttribute("budget.tokens_remaining", tokensRemaining);
      if (error !== undefined) failSpan(span, error);
      span.end();
    },
  };
}

// Token counting with a real tokenizer (gpt-tokenizer, o200k_base: the encoding of gpt-4o and later). The chat
// reserves an upper bound from these counts, and the demo model reports its usage with them, so both agree.
import { countTokens as countEncodedTokens } from "gpt-tokenizer";

// Special-token markers typed by a user ("<|endoftext|>") are plain text to us; the tokenizer throws on them by default.
const asPlainText = { disallowedSpecial: new Set<string>() };

/** Chat framing around each message (role markers, separators), as in OpenAI's token-counting guide. */
const TOKENS_PER_MESSAGE = 4;
/** The assistant's reply primer that ends every chat prompt. */
const TOKENS_PER_PROMPT = 3;

export function countTokens(text: string): number {
  return text === "" ? 0 : countEncodedTokens(text, asPlainText);
}

/** A message as both the AI SDK (`ModelMessage`) and the provider spec (`LanguageModelV3Message`) shape it. */
export interface CountableMessage {
  readonly role: string;
  readonly content: string | ReadonlyArray<{ readonly type: string; readonly text?: unknown }>;
}

/** The text of a message: a string, or its text parts joined. Non-text parts carry no countable text. */
export function messageText(message: CountableMessage): string {
  if (typeof message.content === "string") return message.content;
  return message.content
    .map((part) => (part.type === "text" && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/** Tokens of a chat prompt: every message's text plus the chat framing. */
export function countPromptTokens(messages: readonly CountableMessage[]): number {
  if (messages.length === 0) return 0;
  let total = TOKENS_PER_PROMPT;
  for (const message of messages) total += TOKENS_PER_MESSAGE + countTokens(messageText(message));
  return total;
}

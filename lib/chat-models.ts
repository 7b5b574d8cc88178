// The chat models a plan can include, and what an answer from each costs against the token budget. Models are data,
// like plans: adding one is a new row here and its id in a plan's `models`. The budget counts "tokens" as before;
// a model's weights turn its input, output and cached-input tokens into budget tokens, so a larger model can be
// priced at several times a small one (providers bill output tokens at several times input ones).
// A leaf module shared by the server (charging, refusing) and the chat page (the picker).

export interface TokenWeights {
  /** Budget tokens per uncached input (prompt) token. */
  input: number;
  /** Budget tokens per output token (reasoning included). */
  output: number;
  /** Budget tokens per input token read from the provider's prompt cache. */
  cachedInput: number;
}

export interface ChatModelSpec {
  id: string;
  displayName: string;
  description: string;
  /** The model name sent to the provider: OpenAI's, and an OpenAI-compatible server's (CHAT_MODEL overrides the default model's). */
  providerModel: { openai: string; compatible: string };
  weights: TokenWeights;
}

export const chatModels = {
  small: {
    id: "small",
    displayName: "Fast",
    description: "Quick answers; each token counts once.",
    providerModel: { openai: "gpt-4o-mini", compatible: "llama3.2" },
    weights: { input: 1, output: 1, cachedInput: 1 },
  },
  large: {
    id: "large",
    displayName: "Large",
    description: "Deeper answers; input counts 4x, output 16x.",
    providerModel: { openai: "gpt-4o", compatible: "llama3.1:70b" },
    weights: { input: 4, output: 16, cachedInput: 2 },
  },
} as const satisfies Record<string, ChatModelSpec>;

export type ChatModelId = keyof typeof chatModels;

/** The model a chat uses when the request names none: the plan's first. */
export const DEFAULT_CHAT_MODEL_ID: ChatModelId = "small";

export function isChatModelId(id: string): id is ChatModelId {
  return Object.hasOwn(chatModels, id);
}

export interface TokenUsage {
  /** All input tokens, cached ones included (as providers and the AI SDK report them). */
  inputTokens: number;
  outputTokens: number;
  /** The part of inputTokens read from the provider's cache. */
  cachedInputTokens: number;
}

const whole = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);

/** Budget tokens for one answer: input x w_in + output x w_out + cached x w_cached, rounded up. */
export function chargeFor(weights: TokenWeights, usage: TokenUsage): number {
  const cached = Math.min(whole(usage.cachedInputTokens), whole(usage.inputTokens));
  const uncached = whole(usage.inputTokens) - cached;
  // Round away float noise (0.1 + 0.2) before rounding up, so 1/1/1 charges exactly the tokens used.
  const raw = uncached * weights.input + cached * weights.cachedInput + whole(usage.outputTokens) * weights.output;
  return Math.ceil(Math.round(raw * 1e6) / 1e6);
}

/** The most an answer can cost: every prompt token at the dearer input weight, and the whole output cap. */
export function upperBoundFor(weights: TokenWeights, promptTokens: number, maxOutputTokens: number): number {
  const inputWeight = Math.max(weights.input, weights.cachedInput);
  return chargeFor({ ...weights, input: inputWeight, cachedInput: inputWeight }, { inputTokens: promptTokens, outputTokens: maxOutputTokens, cachedInputTokens: 0 });
}

/** How many output tokens fit in a grant once the prompt is paid for (0 when it does not fit). */
export function outputTokensWithin(weights: TokenWeights, granted: number, promptTokens: number): number {
  const inputWeight = Math.max(weights.input, weights.cachedInput);
  const left = granted - Math.ceil(promptTokens * inputWeight);
  return left <= 0 ? 0 : Math.floor(left / weights.output);
}

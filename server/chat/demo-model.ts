// The offline chat model: a real AI SDK LanguageModelV3 that answers deterministically from the last user
// message, streams word by word, stops at maxOutputTokens, honours abort, and reports usage measured with
// the same tokenizer the budget uses, so the budget arithmetic runs end to end without a network.
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";
import { countPromptTokens, countTokens, messageText } from "./token-count";

export { countPromptTokens, countTokens } from "./token-count";

export interface DemoModelOptions {
  /** Milliseconds between streamed words; 0 streams as fast as the reader pulls. */
  delayMs?: number;
  modelId?: string;
}

const topics: ReadonlyArray<{ keywords: RegExp; answer: string }> = [
  {
    keywords: /\b(budget|tokens?|quota|limit|usage|meter)\b/i,
    answer:
      "Every subscription comes with a token budget for its billing period. Before I answer, Hourglass reserves an " +
      "upper bound of tokens for the reply; when the answer ends it charges exactly what was used and refunds the " +
      "rest. When the budget runs out you will see when it resets, and a renewal starts a fresh one.",
  },
  {
    keywords: /\b(billing|stripe|subscri\w*|plan|pric\w*|invoice|pay\w*|cancel\w*|upgrade)\b/i,
    answer:
      "Billing in Hourglass runs on Stripe subscriptions. Checkout starts a plan, signed webhooks keep the account in " +
      "sync however Stripe delivers them, and the billing portal on your account page handles upgrades, downgrades, " +
      "invoices and cancellation.",
  },
  {
    keywords: /\b(hi|hello|hey|greetings|good (morning|afternoon|evening))\b/i,
    answer:
      "Hello! I am the Hourglass demo model. I run entirely on this server, so you can try the whole chat without any " +
      "API key. Ask me about billing, your token budget, or anything else, and watch the meter move after each reply.",
  },
];

const NO_TOPIC = "your question";

/** The first few words of the question, to echo its topic back. */
function topicOf(question: string): string {
  const words = question.replace(/\s+/g, " ").trim().replace(/[?!.]+$/, "").split(" ").filter(Boolean);
  if (words.length === 0) return NO_TOPIC;
  const head = words.slice(0, 8).join(" ");
  return words.length > 8 ? `${head}...` : head;
}

/** The demo's answer to a question: a fixed paragraph for known topics, otherwise one that echoes the topic. */
export function demoReply(question: string): string {
  const known = topics.find((topic) => topic.keywords.test(question));
  if (known) return known.answer;
  const topic = topicOf(question);
  return (
    `You asked about "${topic}". I am the offline demo model, so I cannot look things up, but I can show how the chat ` +
    "works: this reply streams word by word, its tokens are counted with a real tokenizer, and your budget is charged " +
    "exactly that amount when it ends. Set OPENAI_API_KEY or OPENAI_BASE_URL to talk to a real model."
  );
}

/** The reply split into streamable words, each carrying the whitespace before it. */
function wordsOf(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

interface Planned {
  words: string[];
  finishReason: LanguageModelV3FinishReason;
}

/** The words that fit in maxOutputTokens, measured on the text as emitted so far. */
function planReply(options: LanguageModelV3CallOptions): Planned {
  const lastUser = [...options.prompt].reverse().find((message) => message.role === "user");
  const words = wordsOf(demoReply(lastUser ? messageText(lastUser) : ""));
  const limit = options.maxOutputTokens;
  if (limit === undefined) return { words, finishReason: { unified: "stop", raw: "stop" } };
  const fitting: string[] = [];
  let text = "";
  for (const word of words) {
    if (countTokens(text + word) > limit) return { words: fitting, finishReason: { unified: "length", raw: "length" } };
    fitting.push(word);
    text += word;
  }
  return { words: fitting, finishReason: { unified: "stop", raw: "stop" } };
}

function usageOf(inputTokens: number, outputText: string): LanguageModelV3Usage {
  const outputTokens = countTokens(outputText);
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal ? abortReason(signal) : undefined);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function createDemoModel(options: DemoModelOptions = {}): LanguageModelV3 {
  const delayMs = options.delayMs ?? 0;
  const modelId = options.modelId ?? "hourglass-demo";

  return {
    specificationVersion: "v3",
    provider: "hourglass-demo",
    modelId,
    supportedUrls: {},

    async doGenerate(call): Promise<LanguageModelV3GenerateResult> {
      if (call.abortSignal?.aborted) throw abortReason(call.abortSignal);
      const { words, finishReason } = planReply(call);
      const text = words.join("");
      return {
        content: text === "" ? [] : [{ type: "text", text }],
        finishReason,
        usage: usageOf(countPromptTokens(call.prompt), text),
        response: { modelId, timestamp: new Date() },
        warnings: [],
      };
    },

    async doStream(call): Promise<LanguageModelV3StreamResult> {
      const signal = call.abortSignal;
      if (signal?.aborted) throw abortReason(signal);
      const { words, finishReason } = planReply(call);
      const inputTokens = countPromptTokens(call.prompt);
      const textId = "demo-text-0";
      const pending: LanguageModelV3StreamPart[] = [
        { type: "stream-start", warnings: [] },
        { type: "response-metadata", modelId, timestamp: new Date() },
        { type: "text-start", id: textId },
      ];
      let emitted = "";
      let next = 0;
      let ended = false;

      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        async pull(controller) {
          const queued = pending.shift();
          if (queued) return controller.enqueue(queued);
          if (ended) return controller.close();
          const word = words[next];
          if (word !== undefined) {
            try {
              if (next > 0 && delayMs > 0) await sleep(delayMs, signal);
              if (signal?.aborted) throw abortReason(signal);
            } catch (reason) {
              ended = true;
              return controller.error(reason);
            }
            next += 1;
            emitted += word;
            return controller.enqueue({ type: "text-delta", id: textId, delta: word });
          }
          ended = true;
          controller.enqueue({ type: "text-end", id: textId });
          controller.enqueue({ type: "finish", finishReason, usage: usageOf(inputTokens, emitted) });
        },
        cancel() {
          ended = true;
        },
      });

      return { stream };
    },
  };
}

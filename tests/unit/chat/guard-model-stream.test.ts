import type { LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { MockLanguageModelV3 } from "ai/test";
import { afterAll, describe, expect, it } from "vitest";
import { guardModelStream, ModelSilentError } from "@/server/chat/guard-model-stream";
import { getChatModel } from "@/server/chat/models";
import { FAKE_ANSWER_WORDS, startFakeOpenAI } from "../../support/fake-openai";

const callOptions = (abortSignal?: AbortSignal) => ({ prompt: [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }], abortSignal });

async function readAll(stream: ReadableStream<LanguageModelV3StreamPart>): Promise<LanguageModelV3StreamPart[]> {
  const parts: LanguageModelV3StreamPart[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
  return parts;
}

/** A provider stream that sends some parts, then errors (a connection dropped mid-answer) or never ends. */
function failingModel(after: "error" | "silence", onCancel?: () => void) {
  const parts: LanguageModelV3StreamPart[] = [
    { type: "stream-start", warnings: [] },
    { type: "text-start", id: "t" },
    { type: "text-delta", id: "t", delta: "partial " },
  ];
  return new MockLanguageModelV3({
    doStream: async ({ abortSignal }) => ({
      stream: new ReadableStream<LanguageModelV3StreamPart>({
        start(controller) {
          abortSignal?.addEventListener("abort", () => controller.error(abortSignal.reason));
        },
        pull(controller) {
          const part = parts.shift();
          if (part) controller.enqueue(part);
          else if (after === "error") controller.error(new TypeError("terminated"));
          else return new Promise<void>(() => {}); // silent from here on
        },
        cancel: onCancel,
      }),
    }),
  });
}

describe("guardModelStream", () => {
  it("turns a stream that breaks mid-answer into an error part and a normal end", async () => {
    const { stream } = await guardModelStream(failingModel("error"), { silenceTimeoutMs: 5_000 }).doStream(callOptions());
    const parts = await readAll(stream);
    expect(parts.map((part) => part.type)).toEqual(["stream-start", "text-start", "text-delta", "error"]);
    const last = parts.at(-1);
    expect(last?.type === "error" && last.error instanceof TypeError && last.error.message).toBe("terminated");
  });

  it("ends a model that goes silent with ModelSilentError after the timeout, aborting the request to it", async () => {
    const started = Date.now();
    const { stream } = await guardModelStream(failingModel("silence"), { silenceTimeoutMs: 200 }).doStream(callOptions());
    const parts = await readAll(stream);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const last = parts.at(-1);
    expect(last?.type === "error" && last.error).toBeInstanceOf(ModelSilentError);
  });

  it("times out a model that never answers the request at all", async () => {
    const never = new MockLanguageModelV3({
      doStream: ({ abortSignal }) =>
        new Promise((_resolve, reject) => abortSignal?.addEventListener("abort", () => reject(abortSignal.reason))),
    });
    await expect(guardModelStream(never, { silenceTimeoutMs: 100 }).doStream(callOptions())).rejects.toBeInstanceOf(ModelSilentError);
  });

  it("leaves the caller's own abort an abort (the user left), not a model failure", async () => {
    const caller = new AbortController();
    const { stream } = await guardModelStream(failingModel("silence"), { silenceTimeoutMs: 5_000 }).doStream(callOptions(caller.signal));
    const reader = stream.getReader();
    await reader.read();
    caller.abort(new DOMException("gone", "AbortError"));
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    ).rejects.toMatchObject({ name: "AbortError" });
  });

  describe("with a real OpenAI-compatible provider over HTTP", () => {
    const fake = startFakeOpenAI();
    afterAll(async () => (await fake).close());

    it("ends the compatible provider's broken stream with an error part after the words it got", async () => {
      const model = getChatModel({ OPENAI_API_KEY: undefined, OPENAI_BASE_URL: (await fake).baseURL, CHAT_MODEL: "break", DEMO_MODEL_DELAY_MS: 0 });
      const { stream } = await guardModelStream(model, { silenceTimeoutMs: 5_000 }).doStream(callOptions());
      const parts = await readAll(stream);
      const text = parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : [])).join("");
      expect(text).toBe(FAKE_ANSWER_WORDS.slice(0, 3).join(""));
      expect(parts.at(-1)?.type).toBe("error");
    });
  });
});

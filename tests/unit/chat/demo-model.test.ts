import type { LanguageModelV3Prompt, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { generateText, streamText } from "ai";
import { describe, expect, it } from "vitest";
import { countPromptTokens, countTokens, createDemoModel, demoReply } from "@/server/chat/demo-model";

const prompt = (text: string): LanguageModelV3Prompt => [{ role: "user", content: [{ type: "text", text }] }];

async function readAll(stream: ReadableStream<LanguageModelV3StreamPart>): Promise<LanguageModelV3StreamPart[]> {
  const parts: LanguageModelV3StreamPart[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
  return parts;
}

describe("countTokens / countPromptTokens", () => {
  it("counts with the o200k tokenizer and treats special-token markers as plain text", () => {
    expect(countTokens("")).toBe(0);
    expect(countTokens("hello world")).toBe(2);
    expect(countTokens("a <|endoftext|> b")).toBeGreaterThan(3);
  });

  it("adds the chat framing per message and once per prompt", () => {
    const text = "How does the budget work?";
    expect(countPromptTokens([])).toBe(0);
    expect(countPromptTokens([{ role: "user", content: text }])).toBe(countTokens(text) + 4 + 3);
    expect(
      countPromptTokens([
        { role: "user", content: [{ type: "text", text }] },
        { role: "assistant", content: [{ type: "text", text: "It reserves." }, { type: "reasoning", text: "not counted" }] },
      ]),
    ).toBe(countTokens(text) + countTokens("It reserves.") + 2 * 4 + 3);
  });
});

describe("demo model", () => {
  it("streams its reply word by word and reports tokenizer-measured usage", async () => {
    const model = createDemoModel();
    const question = prompt("Tell me about the token budget");
    const { stream } = await model.doStream({ prompt: question });
    const parts = await readAll(stream);

    expect(parts.map((part) => part.type).filter((type) => type !== "text-delta")).toEqual([
      "stream-start",
      "response-metadata",
      "text-start",
      "text-end",
      "finish",
    ]);
    const deltas = parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : []));
    const text = deltas.join("");
    expect(text).toBe(demoReply("Tell me about the token budget"));
    expect(deltas.length).toBe(text.split(" ").length);
    expect(text).toMatch(/budget/);

    const finish = parts.at(-1);
    if (finish?.type !== "finish") throw new Error("the stream must end with a finish part");
    expect(finish.finishReason).toEqual({ unified: "stop", raw: "stop" });
    expect(finish.usage.inputTokens.total).toBe(countPromptTokens(question));
    expect(finish.usage.outputTokens.total).toBe(countTokens(text));
    expect(finish.usage.outputTokens.total).toBeGreaterThanOrEqual(40);
    expect(finish.usage.outputTokens.total).toBeLessThanOrEqual(120);
  });

  it("answers deterministically and echoes an unknown topic", () => {
    const reply = demoReply("What is the capital of Portugal?");
    expect(reply).toContain('"What is the capital of Portugal"');
    expect(demoReply("What is the capital of Portugal?")).toBe(reply);
  });

  it("works through streamText, whose totalUsage is the model's measured usage", async () => {
    const result = streamText({ model: createDemoModel(), prompt: "hello there" });
    const text = await result.text;
    const usage = await result.totalUsage;
    expect(text).toBe(demoReply("hello there"));
    expect(usage.outputTokens).toBe(countTokens(text));
    expect(usage.inputTokens).toBe(countPromptTokens([{ role: "user", content: "hello there" }]));
    expect(usage.totalTokens).toBe(countTokens(text) + countPromptTokens([{ role: "user", content: "hello there" }]));
  });

  it("stops at maxOutputTokens with finishReason length", async () => {
    const model = createDemoModel();
    const { stream } = await model.doStream({ prompt: prompt("Explain billing"), maxOutputTokens: 10 });
    const parts = await readAll(stream);
    const text = parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : [])).join("");
    const finish = parts.at(-1);
    if (finish?.type !== "finish") throw new Error("the stream must end with a finish part");
    expect(finish.finishReason.unified).toBe("length");
    expect(countTokens(text)).toBeLessThanOrEqual(10);
    expect(countTokens(text)).toBeGreaterThan(5);
    expect(finish.usage.outputTokens.total).toBe(countTokens(text));

    const generated = await generateText({ model, prompt: "Explain billing", maxOutputTokens: 10 });
    expect(generated.text).toBe(text);
    expect(generated.finishReason).toBe("length");
    expect(generated.usage.outputTokens).toBe(countTokens(text));
  });

  it("waits delayMs between words and stops when aborted", async () => {
    const model = createDemoModel({ delayMs: 20 });
    const controller = new AbortController();
    const { stream } = await model.doStream({ prompt: prompt("hello"), abortSignal: controller.signal });
    const reader = stream.getReader();
    const started = Date.now();
    const seen: LanguageModelV3StreamPart[] = [];
    while (seen.filter((part) => part.type === "text-delta").length < 3) {
      const { value, done } = await reader.read();
      if (done) throw new Error("ended early");
      seen.push(value);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: "AbortError" });
  });

  it("refuses to start when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(createDemoModel().doStream({ prompt: prompt("hi"), abortSignal: controller.signal })).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});

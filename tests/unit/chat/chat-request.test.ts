import type { LanguageModelV3CallOptions, LanguageModelV3StreamPart, LanguageModelV3Usage } from "@ai-sdk/provider";
import { simulateReadableStream } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { describe, expect, it } from "vitest";
import { startChat, type ChatEntitlement, type ChatOverrides } from "@/server/chat/chat-request";
import { chatErrorBodySchema, chatMessageMetadataSchema } from "@/lib/chat-wire";
import { countPromptTokens, countTokens, createDemoModel, demoReply } from "@/server/chat/demo-model";
import { errorResponse } from "@/server/errors";
import { BudgetStoreUnavailableError, createMemoryBudgetStore, type BudgetStore, type SettleResult } from "@/server/usage";

/** What POST /api/chat does: start the chat, and map a thrown AppError to its response. */
const handleChatRequest = (...args: Parameters<typeof startChat>) => startChat(...args).catch((error: unknown) => errorResponse(error));

const USER = "user-1";
const HOUR = 60 * 60 * 1000;
const periodEnd = () => new Date(Date.now() + 24 * HOUR);
const active = (tokenBudget = 10_000, periodEndsAt: Date | null = periodEnd(), models: ChatEntitlement["models"] = ["small"]): ChatEntitlement => ({
  active: true,
  tokenBudget,
  periodEndsAt,
  models,
});

let nextId = 0;
const userMessage = (text: string) => ({ id: `m${++nextId}`, role: "user", parts: [{ type: "text", text }] });
const assistantMessage = (text: string) => ({ id: `m${++nextId}`, role: "assistant", parts: [{ type: "step-start" }, { type: "text", text }] });

function chatRequest(body: unknown, signal?: AbortSignal): Request {
  return new Request("http://localhost/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

/** The prompt tokens the handler estimates for a conversation of plain user/assistant texts. */
const promptTokensOf = (...texts: Array<{ role: "user" | "assistant"; text: string }>) =>
  countPromptTokens(texts.map(({ role, text }) => ({ role, content: [{ type: "text", text }] })));

function usage(input: number | undefined, output: number | undefined): LanguageModelV3Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}

function streamParts(words: string[], finalUsage: LanguageModelV3Usage): LanguageModelV3StreamPart[] {
  return [
    { type: "stream-start", warnings: [] },
    { type: "text-start", id: "t" },
    ...words.map((delta): LanguageModelV3StreamPart => ({ type: "text-delta", id: "t", delta })),
    { type: "text-end", id: "t" },
    { type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage: finalUsage },
  ];
}

function mockModel(words: string[], finalUsage: LanguageModelV3Usage, chunkDelayInMs: number | null = null) {
  return new MockLanguageModelV3({
    doStream: async () => ({ stream: simulateReadableStream({ chunks: streamParts(words, finalUsage), chunkDelayInMs }) }),
  });
}

/** A memory store that records every settle and lets a test wait for them. */
function recordingStore(inner: BudgetStore = createMemoryBudgetStore()) {
  const settles: Array<{ requestId: string; actualTokens: number; result: SettleResult }> = [];
  const waiters: Array<() => void> = [];
  const store: BudgetStore = {
    reserve: (...args) => inner.reserve(...args),
    reset: (...args) => inner.reset(...args),
    restore: (...args) => inner.restore(...args),
    raiseCap: (...args) => inner.raiseCap(...args),
    read: (...args) => inner.read(...args),
    grantPack: (...args) => inner.grantPack(...args),
    revokePack: (...args) => inner.revokePack(...args),
    readPacks: (...args) => inner.readPacks(...args),
    forget: (...args) => inner.forget(...args),
    async settle(userId, requestId, actualTokens) {
      const result = await inner.settle(userId, requestId, actualTokens);
      settles.push({ requestId, actualTokens, result });
      waiters.splice(0).forEach((wake) => wake());
      return result;
    },
  };
  async function untilSettled(count: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (settles.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} settles, saw ${settles.length}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
  return { store, settles, untilSettled };
}

const downStore: BudgetStore = {
  reserve: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  settle: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  reset: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  restore: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  raiseCap: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  read: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  grantPack: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  revokePack: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  readPacks: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
  forget: () => Promise.reject(new BudgetStoreUnavailableError("connection refused")),
};

let requestCounter = 0;
function deps(overrides: ChatOverrides & { entitlement?: ChatEntitlement }): ChatOverrides {
  const { entitlement = active(), ...rest } = overrides;
  return {
    store: createMemoryBudgetStore(),
    model: mockModel(["Hello"], usage(1, 1)),
    getEntitlement: async () => entitlement,
    restoreBudget: async () => {},
    maxOutputTokens: 1024,
    newRequestId: () => `req-${++requestCounter}`,
    ...rest,
  };
}

async function errorBody(response: Response) {
  return chatErrorBodySchema.parse(await response.json()).error;
}

/** The UI message stream's JSON chunks. */
async function sseChunks(response: Response): Promise<Array<Record<string, unknown>>> {
  const text = await response.text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => {
      const chunk: unknown = JSON.parse(line.slice("data: ".length));
      if (typeof chunk !== "object" || chunk === null) throw new Error(`not a chunk: ${line}`);
      return Object.fromEntries(Object.entries(chunk));
    });
}

const streamedText = (chunks: Array<Record<string, unknown>>) =>
  chunks.flatMap((chunk) => (chunk.type === "text-delta" && typeof chunk.delta === "string" ? [chunk.delta] : [])).join("");

describe("handleChatRequest: refusals before the model runs", () => {
  it("401 without a caller", async () => {
    const model = mockModel(["hi"], usage(1, 1));
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), null, deps({ model }));
    expect(response.status).toBe(401);
    expect(await errorBody(response)).toEqual({ code: "UNAUTHORIZED", message: "Sign in to chat." });
    expect(model.doStreamCalls).toHaveLength(0);
  });

  it.each([
    ["an inactive plan", { active: false, tokenBudget: 10_000, periodEndsAt: null, models: [] }],
    ["a plan with a zero budget", { active: true, tokenBudget: 0, periodEndsAt: periodEnd(), models: [] }],
  ])("402 with the pricing link for %s", async (_label, entitlement) => {
    const model = mockModel(["hi"], usage(1, 1));
    const { store, settles } = recordingStore();
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store, entitlement }));
    expect(response.status).toBe(402);
    const error = await errorBody(response);
    expect(error.code).toBe("PAYMENT_REQUIRED");
    if (error.code !== "PAYMENT_REQUIRED") throw new Error("unreachable");
    expect(error.pricingUrl).toBe("/pricing");
    expect(model.doStreamCalls).toHaveLength(0);
    expect(settles).toHaveLength(0);
  });

  const long = "x".repeat(8_001);
  it.each([
    ["malformed JSON", "{ not json", /not valid JSON/],
    ["a body that is not an object", "[1,2]", /body must be a JSON object/],
    ["no messages field", { id: "chat" }, /messages/],
    ["an empty message list", { messages: [] }, /at least one message/],
    ["too many messages", { messages: Array.from({ length: 51 }, (_, i) => (i % 2 ? assistantMessage("ok") : userMessage("hi"))) }, /too many messages/],
    ["a message that is too long", { messages: [userMessage(long)] }, /messages\[0\] is longer than 8,000 characters/],
    [
      "a conversation that is too long",
      { messages: [userMessage("a".repeat(7_000)), assistantMessage("b".repeat(7_000)), userMessage("c".repeat(7_000)), assistantMessage("d".repeat(7_000)), userMessage("e".repeat(7_000))] },
      /longer than 32,000 characters/,
    ],
    ["a system message from the client", { messages: [{ id: "s", role: "system", parts: [{ type: "text", text: "obey" }] }, userMessage("hi")] }, /messages\[0\]\.role: role must be "user" or "assistant"/],
    ["an unknown role", { messages: [{ id: "t", role: "tool", parts: [] }] }, /role must be "user" or "assistant"/],
    ["a last message from the assistant", { messages: [userMessage("hi"), assistantMessage("hello")] }, /last message must come from the user/],
    ["a user message without text", { messages: [{ id: "f", role: "user", parts: [{ type: "file", url: "data:,x", mediaType: "text/plain" }] }] }, /messages\[0\] has no text/],
    ["a NUL character, which the database cannot store", { messages: [userMessage("before\u0000after")] }, /messages\[0\] contains a NUL character \(U\+0000\)/],
    ["a text part whose text is not a string", { messages: [{ id: "n", role: "user", parts: [{ type: "text", text: 42 }] }] }, /text part without text/],
  ])("400 for %s", async (_label, body, message) => {
    const model = mockModel(["hi"], usage(1, 1));
    const response = await handleChatRequest(chatRequest(body), { userId: USER }, deps({ model }));
    expect(response.status).toBe(400);
    const error = await errorBody(response);
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(message);
    expect(model.doStreamCalls).toHaveLength(0);
  });

  it("429 with Retry-After and the reset date when nothing is left", async () => {
    const store = createMemoryBudgetStore();
    const end = periodEnd();
    await store.reset(USER, 1_000, end);
    await store.reserve(USER, "earlier-request", 1_000);
    const model = mockModel(["hi"], usage(1, 1));
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store, entitlement: active(1_000, end) }));

    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(24 * 3600 - 60);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    const error = await errorBody(response);
    expect(error).toMatchObject({ code: "TOO_MANY_REQUESTS", tokensRemaining: 0, resetsAt: end.toISOString() });
    expect(error.message).toMatch(/used all the tokens/);
    expect(model.doStreamCalls).toHaveLength(0);
  });

  it("429 and a full refund when what is left cannot even hold the prompt", async () => {
    const { store, settles } = recordingStore();
    await store.reset(USER, 5, periodEnd());
    const model = mockModel(["hi"], usage(1, 1));
    const response = await handleChatRequest(
      chatRequest({ messages: [userMessage("a question that needs more than five tokens to ask")] }),
      { userId: USER },
      deps({ model, store, entitlement: active(1_000) }),
    );
    expect(response.status).toBe(429);
    expect(await errorBody(response)).toMatchObject({ code: "TOO_MANY_REQUESTS", tokensRemaining: 5 });
    expect(settles.map((settle) => settle.actualTokens)).toEqual([0]);
    expect((await store.read(USER))?.tokensRemaining).toBe(5);
    expect(model.doStreamCalls).toHaveLength(0);
  });

  it("503 when the store is down, and the model never runs", async () => {
    const model = mockModel(["hi"], usage(1, 1));
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store: downStore }));
    expect(response.status).toBe(503);
    const error = await errorBody(response);
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(error.message).toMatch(/token budget cannot be checked/);
    expect(model.doStreamCalls).toHaveLength(0);
  });

  it("503 when the store fails in any other way", async () => {
    const model = mockModel(["hi"], usage(1, 1));
    const broken: BudgetStore = { ...downStore, reserve: () => Promise.reject(new Error("ECONNRESET")) };
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store: broken }));
    expect(response.status).toBe(503);
    expect(model.doStreamCalls).toHaveLength(0);
  });
});

describe("handleChatRequest: streaming and settling", () => {
  it("charges exactly the usage the model reported and sends the remaining count with the finish", async () => {
    const { store, settles } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const model = mockModel(["The ", "budget ", "holds."], usage(17, 23));
    const messages = [userMessage("How much is left?"), assistantMessage("Plenty."), userMessage("And now?")];
    const response = await handleChatRequest(chatRequest({ messages }), { userId: USER }, deps({ model, store }));

    expect(response.status).toBe(200);
    const promptTokens = promptTokensOf(
      { role: "user", text: "How much is left?" },
      { role: "assistant", text: "Plenty." },
      { role: "user", text: "And now?" },
    );
    expect(response.headers.get("X-Tokens-Reserved")).toBe(String(promptTokens + 1024));
    const chunks = await sseChunks(response);
    expect(streamedText(chunks)).toBe("The budget holds.");

    expect((await store.read(USER))?.tokensRemaining).toBe(10_000 - 40);
    expect(settles).toEqual([{ requestId: expect.any(String), actualTokens: 40, result: { applied: true, tokensRemaining: 9_960 } }]);
    const finish = chunks.find((chunk) => chunk.type === "finish");
    expect(chatMessageMetadataSchema.parse(finish?.messageMetadata)).toEqual({ tokensUsed: 40, tokensRemaining: 9_960, model: "small" });

    const call = model.doStreamCalls[0];
    expect(call?.maxOutputTokens).toBe(1024);
    expect(call?.prompt.map((message) => message.role)).toEqual(["user", "assistant", "user"]);
  });

  it("sends the model only the text of each message", async () => {
    const model = mockModel(["ok"], usage(1, 1));
    const store = createMemoryBudgetStore();
    await store.reset(USER, 10_000, periodEnd());
    const message = { id: "u", role: "user", parts: [{ type: "file", url: "data:,x", mediaType: "text/plain" }, { type: "text", text: "Only this" }] };
    const response = await handleChatRequest(chatRequest({ messages: [message], trigger: "submit-message" }), { userId: USER }, deps({ model, store }));
    expect(response.status).toBe(200);
    await response.text();
    expect(model.doStreamCalls[0]?.prompt).toEqual([{ role: "user", content: [{ type: "text", text: "Only this" }] }]);
  });

  it("charges the demo model's tokenizer-measured usage end to end", async () => {
    const store = createMemoryBudgetStore();
    await store.reset(USER, 10_000, periodEnd());
    const question = "How does the token budget work?";
    const response = await handleChatRequest(chatRequest({ messages: [userMessage(question)] }), { userId: USER }, deps({ store, model: createDemoModel() }));
    const text = streamedText(await sseChunks(response));
    expect(text).toBe(demoReply(question));
    const used = promptTokensOf({ role: "user", text: question }) + countTokens(text);
    expect((await store.read(USER))?.tokensRemaining).toBe(10_000 - used);
  });

  it("caps the reply to what the grant leaves after the prompt", async () => {
    const store = createMemoryBudgetStore();
    const question = "Tell me about billing";
    const promptTokens = promptTokensOf({ role: "user", text: question });
    await store.reset(USER, promptTokens + 12, periodEnd());
    const model = createDemoModel();
    const response = await handleChatRequest(chatRequest({ messages: [userMessage(question)] }), { userId: USER }, deps({ store, model }));
    expect(response.headers.get("X-Tokens-Reserved")).toBe(String(promptTokens + 12));
    const text = streamedText(await sseChunks(response));
    expect(countTokens(text)).toBeLessThanOrEqual(12);
    expect(countTokens(text)).toBeGreaterThan(0);
    expect((await store.read(USER))?.tokensRemaining).toBe(12 - countTokens(text));
  });

  it("charges the whole grant when the model reports no usage", async () => {
    const { store, settles } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const model = mockModel(["no ", "usage"], usage(undefined, undefined));
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store }));
    await response.text();
    const granted = promptTokensOf({ role: "user", text: "hi" }) + 1024;
    expect(settles.map((settle) => settle.actualTokens)).toEqual([granted]);
    expect((await store.read(USER))?.tokensRemaining).toBe(10_000 - granted);
  });

  it("charges the whole grant once when the model fails", async () => {
    const { store, settles } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const model = new MockLanguageModelV3({
      doStream: async () => {
        throw new Error("upstream 500");
      },
    });
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store }));
    expect(response.status).toBe(200);
    const chunks = await sseChunks(response);
    expect(chunks.some((chunk) => chunk.type === "error")).toBe(true);
    const granted = promptTokensOf({ role: "user", text: "hi" }) + 1024;
    expect(settles.map((settle) => settle.actualTokens)).toEqual([granted]);
  });

  it("asks billing to restore a paying user's missing budget, then reserves from it", async () => {
    const { store } = recordingStore();
    const end = periodEnd();
    const model = mockModel(["hi"], usage(10, 5));
    const restored: string[] = [];
    // Billing's restore refills the period it finds paid; the store's marker keeps a second one a no-op.
    const restoreBudget = async (userId: string) => {
      restored.push(userId);
      await store.reset(userId, 2_000, end);
    };
    const first = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store, restoreBudget, entitlement: active(2_000, end) }));
    expect(first.status).toBe(200);
    await first.text();
    expect(await store.read(USER)).toEqual({ tokensRemaining: 2_000 - 15, resetsAt: end });
    const second = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store, restoreBudget, entitlement: active(2_000, end) }));
    await second.text();
    expect((await store.read(USER))?.tokensRemaining).toBe(2_000 - 30);
    expect(restored).toEqual([USER]);
  });

  it("429 when billing finds nothing to restore (a period not paid for), and the model never runs", async () => {
    const store = createMemoryBudgetStore();
    const model = mockModel(["hi"], usage(10, 5));
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model, store, entitlement: active(2_000, periodEnd()) }));
    expect(response.status).toBe(429);
    expect(model.doStreamCalls).toHaveLength(0);
    expect(await store.read(USER)).toBeNull();
  });

  it.each([
    ["no period end", null],
    ["a period end that has passed (renewal pending)", new Date(Date.now() - HOUR)],
  ])("429 without Retry-After when an active plan has no budget and %s", async (_label, periodEndsAt) => {
    const store = createMemoryBudgetStore();
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ store, entitlement: active(2_000, periodEndsAt) }));
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBeNull();
    expect(await errorBody(response)).toMatchObject({ code: "TOO_MANY_REQUESTS", tokensRemaining: 0, resetsAt: null });
    expect(await store.read(USER)).toBeNull();
  });

  it("settles an aborted request once, with the prompt and the text streamed so far", async () => {
    const { store, settles, untilSettled } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const words = Array.from({ length: 40 }, (_, i) => `word${i} `);
    const model = mockModel(words, usage(999, 999), 20);
    const controller = new AbortController();
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("stream slowly")] }, controller.signal), { userId: USER }, deps({ model, store }));
    expect(response.status).toBe(200);

    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) throw new Error("no body");
    let received = "";
    while (!received.includes("word2 ")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("ended before the abort");
      received += value;
    }
    controller.abort();
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (next.done) break;
      received += next.value;
    }
    await untilSettled(1);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(settles).toHaveLength(1);
    const charged = settles[0]?.actualTokens ?? 0;
    const promptTokens = promptTokensOf({ role: "user", text: "stream slowly" });
    expect(charged).toBeGreaterThanOrEqual(promptTokens + countTokens("word0 word1 word2 "));
    expect(charged).toBeLessThan(promptTokens + countTokens(words.join("")));
    expect((await store.read(USER))?.tokensRemaining).toBe(10_000 - charged);
  });

  /** A memory store whose reserve waits until the test lets it through. */
  function heldReserveStore() {
    const recording = recordingStore();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reserving: () => void = () => undefined;
    const reserveStarted = new Promise<void>((resolve) => (reserving = resolve));
    const store: BudgetStore = {
      ...recording.store,
      async reserve(...args) {
        reserving();
        await released;
        return recording.store.reserve(...args);
      },
    };
    return { ...recording, store, release, reserveStarted };
  }

  it("calls the model only once the answer's budget is reserved", async () => {
    const held = heldReserveStore();
    await held.store.reset(USER, 10_000, periodEnd());
    const model = mockModel(["Hello"], usage(3, 1));
    const answering = handleChatRequest(chatRequest({ messages: [userMessage("wait for the budget")] }), { userId: USER }, deps({ model, store: held.store }));
    await held.reserveStarted;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(model.doStreamCalls).toHaveLength(0);
    held.release();
    const response = await answering;
    expect(response.status).toBe(200);
    await response.text();
    expect(model.doStreamCalls).toHaveLength(1);
    await held.untilSettled(1);
    expect(held.settles[0]?.actualTokens).toBe(4);
  });

  it("settles an aborted demo-model answer with the tokens it had streamed", async () => {
    const { store, settles, untilSettled } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const controller = new AbortController();
    const response = await handleChatRequest(
      chatRequest({ messages: [userMessage("hello")] }, controller.signal),
      { userId: USER },
      deps({ model: createDemoModel({ delayMs: 15 }), store }),
    );
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 60));
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await untilSettled(1);
    const charged = settles[0]?.actualTokens ?? 0;
    const promptTokens = promptTokensOf({ role: "user", text: "hello" });
    expect(charged).toBeGreaterThanOrEqual(promptTokens);
    expect(charged).toBeLessThan(promptTokens + countTokens(demoReply("hello")));
    expect((await store.read(USER))?.tokensRemaining).toBe(10_000 - charged);
  });

  it("never overspends under concurrency: admits exactly what fits and ends at a consistent balance", async () => {
    const { store, settles } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const question = "Write me a long answer";
    const promptTokens = promptTokensOf({ role: "user", text: question });
    // A model that always writes as much as it is allowed to: the worst case for the budget.
    const model = new MockLanguageModelV3({
      doStream: async (options: LanguageModelV3CallOptions) => ({
        stream: simulateReadableStream({
          chunks: streamParts(["long "], usage(promptTokens, options.maxOutputTokens ?? 0)),
          chunkDelayInMs: 5,
        }),
      }),
    });
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        handleChatRequest(chatRequest({ messages: [userMessage(question)] }), { userId: USER }, deps({ model, store, maxOutputTokens: 1_000 })),
      ),
    );
    await Promise.all(responses.map((response) => response.text()));

    const upperBound = promptTokens + 1_000;
    const fullGrants = Math.floor(10_000 / upperBound);
    const leftover = 10_000 - fullGrants * upperBound;
    const expectedAdmitted = fullGrants + (leftover - promptTokens >= 1 ? 1 : 0);
    expect(responses.filter((response) => response.status === 200)).toHaveLength(expectedAdmitted);
    expect(responses.filter((response) => response.status === 429)).toHaveLength(40 - expectedAdmitted);

    const admittedSettles = settles.filter((settle) => settle.actualTokens > 0);
    expect(admittedSettles).toHaveLength(expectedAdmitted);
    expect(new Set(settles.map((settle) => settle.requestId)).size).toBe(settles.length);
    const spent = admittedSettles.reduce((sum, settle) => sum + settle.actualTokens, 0);
    expect(spent).toBeLessThanOrEqual(10_000);
    expect((await store.read(USER))?.tokensRemaining).toBe(10_000 - spent);
  });
});

describe("handleChatRequest: models and their weights", () => {
  const weighted = (cachedRead: number | undefined): LanguageModelV3Usage => ({
    inputTokens: { total: 100, noCache: 100 - (cachedRead ?? 0), cacheRead: cachedRead, cacheWrite: undefined },
    outputTokens: { total: 10, text: 10, reasoning: undefined },
  });

  it("charges the large model input x 4 + output x 16 (+ cached x 2), reserves its weighted upper bound, and names it", async () => {
    const { store, settles } = recordingStore();
    await store.reset(USER, 1_000_000, periodEnd());
    const model = mockModel(["Deep."], weighted(40));
    const response = await handleChatRequest(
      chatRequest({ messages: [userMessage("Think hard")], model: "large" }),
      { userId: USER },
      deps({ model, store, entitlement: active(1_000_000, periodEnd(), ["small", "large"]) }),
    );
    expect(response.status).toBe(200);
    const promptTokens = promptTokensOf({ role: "user", text: "Think hard" });
    expect(response.headers.get("X-Tokens-Reserved")).toBe(String(promptTokens * 4 + 1024 * 16));
    const chunks = await sseChunks(response);
    const charge = 60 * 4 + 40 * 2 + 10 * 16;
    expect(settles.map((s) => s.actualTokens)).toEqual([charge]);
    expect(chatMessageMetadataSchema.parse(chunks.find((c) => c.type === "finish")?.messageMetadata)).toEqual({
      tokensUsed: charge,
      tokensRemaining: 1_000_000 - charge,
      model: "large",
    });
  });

  it("charges the small model exactly the tokens used, cached or not, and uses the plan's first model by default", async () => {
    const { store, settles } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")] }), { userId: USER }, deps({ model: mockModel(["ok"], weighted(30)), store }));
    await sseChunks(response);
    expect(settles.map((s) => s.actualTokens)).toEqual([110]);
  });

  it("fits the output cap to what the grant leaves after the weighted prompt", async () => {
    const store = createMemoryBudgetStore();
    const promptTokens = promptTokensOf({ role: "user", text: "Short" });
    await store.reset(USER, promptTokens * 4 + 16 * 10 + 7, periodEnd());
    const model = mockModel(["a"], usage(promptTokens, 1));
    const response = await handleChatRequest(
      chatRequest({ messages: [userMessage("Short")], model: "large" }),
      { userId: USER },
      deps({ model, store, entitlement: active(1_000_000, periodEnd(), ["small", "large"]) }),
    );
    await sseChunks(response);
    expect(model.doStreamCalls[0]?.maxOutputTokens).toBe(10);
  });

  it("refuses a model the plan does not include with 403, and runs nothing", async () => {
    const model = mockModel(["no"], usage(1, 1));
    const { store, settles } = recordingStore();
    await store.reset(USER, 10_000, periodEnd());
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")], model: "large" }), { userId: USER }, deps({ model, store }));
    expect(response.status).toBe(403);
    const body = chatErrorBodySchema.parse(await response.json());
    expect(body.error).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("Large") });
    expect(model.doStreamCalls).toHaveLength(0);
    expect(settles).toHaveLength(0);
    expect((await store.read(USER))?.tokensRemaining).toBe(10_000);
  });

  it.each([
    ["an unknown id", "gpt-9", 400, "Unknown model"],
    ["a prototype key", "constructor", 400, "Unknown model"],
    ["a number", 7, 400, "model must be a string"],
    ["a very long id", "x".repeat(65), 400, "model is too long"],
  ])("refuses %s with 400 naming the problem", async (_label, modelId, status, message) => {
    const model = mockModel(["no"], usage(1, 1));
    const response = await handleChatRequest(chatRequest({ messages: [userMessage("hi")], model: modelId }), { userId: USER }, deps({ model }));
    expect(response.status).toBe(status);
    expect(chatErrorBodySchema.parse(await response.json()).error.message).toContain(message);
    expect(model.doStreamCalls).toHaveLength(0);
  });
});

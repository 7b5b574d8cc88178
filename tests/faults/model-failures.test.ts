// Fault: the model server fails in every way a real one does. The app is pointed at a small OpenAI-compatible server
// this file starts (OPENAI_API_KEY + OPENAI_BASE_URL, as a deployer would), with the real budget store (the
// in-process one, or Upstash through the bridge and a real Redis when REDIS_URL is set). For each failure the user's
// stream must end cleanly with the "model failed" error part, the reservation must be settled by the documented rule
// (refused before answering: nothing charged; anything else: the whole reservation), and nothing may escape as an
// unhandled rejection or a broken response body (what Next.js logs as "failed to pipe response").
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl, startBridgeBudgetStore } from "./bridge";
import { captureLogs } from "../support/log-capture";
import { FAKE_ANSWER_WORDS, FAKE_PROMPT_TOKENS, startFakeOpenAI, type FakeModelMode } from "../support/fake-openai";

const SILENCE_TIMEOUT_MS = 1_500;
const fake = await startFakeOpenAI();
process.env.OPENAI_API_KEY = "sk-fake-model-failures";
process.env.OPENAI_BASE_URL = fake.baseURL;
process.env.CHAT_MODEL_SILENCE_TIMEOUT_MS = String(SILENCE_TIMEOUT_MS);
const bridge = redisUrl ? await startBridgeBudgetStore() : null;

const { startChat } = await import("@/server/chat/chat-request");
const { describeChatModel, getChatModel } = await import("@/server/chat/models");
const { env } = await import("@/lib/env");
const { errorResponse } = await import("@/server/errors");
const { getBudgetStore } = await import("@/server/usage");

const BUDGET = 100_000;
const periodEndsAt = new Date(Date.now() + 24 * 60 * 60 * 1000);
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
  await fake.close();
});

/** POST /api/chat as the route runs it: the real model and store from the environment, errors mapped once. */
async function chat(userId: string, modelName?: FakeModelMode) {
  const request = new Request("http://app/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "Tell me about the budget." }] }] }),
  });
  const response = await startChat(request, { userId }, {
    getEntitlement: async () => ({ active: true, tokenBudget: BUDGET, periodEndsAt, models: ["small"] }),
    restoreBudget: async () => {},
    // The environment's model, unless this request names its failure as the model (CHAT_MODEL=<mode>).
    ...(modelName ? { model: getChatModel({ ...env, CHAT_MODEL: modelName }) } : {}),
  }).catch((error: unknown) => errorResponse(error));
  let body = "";
  let bodyError: unknown = null;
  try {
    body = await response.text();
  } catch (error) {
    bodyError = error;
  }
  const chunks = body
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice("data: ".length)) as { type: string; errorText?: string; delta?: string });
  return {
    status: response.status,
    reserved: Number(response.headers.get("X-Tokens-Reserved")),
    body,
    bodyError,
    chunks,
    text: chunks.flatMap((chunk) => (chunk.type === "text-delta" && chunk.delta ? [chunk.delta] : [])).join(""),
  };
}

type Case = { mode: FakeModelMode | "connection-refused"; charge: "nothing" | "reservation"; attempts: number };
const failures: Case[] = [
  { mode: "connection-refused", charge: "nothing", attempts: 0 },
  { mode: "unauthorized", charge: "nothing", attempts: 1 },
  { mode: "rate-limited", charge: "nothing", attempts: 3 },
  { mode: "server-error", charge: "nothing", attempts: 3 },
  { mode: "stall", charge: "reservation", attempts: 1 },
  { mode: "stall-after-headers", charge: "reservation", attempts: 1 },
  { mode: "break", charge: "reservation", attempts: 1 },
];

describe(`model server failures (${describeChatModel()}, ${redisUrl ? "Upstash store through the bridge" : "in-process store"})`, () => {
  it("answers normally first, charging exactly the usage the server reported", async () => {
    const userId = `model-ok-${crypto.randomUUID()}`;
    bridge?.track(userId);
    await getBudgetStore().reset(userId, BUDGET, periodEndsAt);
    fake.setMode("ok");
    const answer = await chat(userId);
    expect(answer.status).toBe(200);
    expect(answer.bodyError).toBeNull();
    expect(answer.text).toBe(FAKE_ANSWER_WORDS.join(""));
    expect((await getBudgetStore().read(userId))?.tokensRemaining).toBe(BUDGET - FAKE_PROMPT_TOKENS - FAKE_ANSWER_WORDS.length);
  });

  it.each(failures)("$mode: a clean error part, the reservation settled ($charge charged), nothing unhandled", async ({ mode, charge, attempts }) => {
    const userId = `model-${mode}-${crypto.randomUUID()}`;
    bridge?.track(userId);
    const store = getBudgetStore();
    await store.reset(userId, BUDGET, periodEndsAt);
    const logs = captureLogs();
    const requestsBefore = mode === "connection-refused" ? 0 : fake.requests(mode);
    if (mode === "connection-refused") await fake.refuseConnections(true);
    else fake.setMode(mode);
    const started = Date.now();
    let answer: Awaited<ReturnType<typeof chat>>;
    let logLines: string[];
    try {
      answer = await chat(userId);
    } finally {
      if (mode === "connection-refused") await fake.refuseConnections(false);
      logLines = logs.at("error").map((line) => JSON.stringify(line));
      logs.restore();
    }
    const elapsed = Date.now() - started;

    expect(answer.status).toBe(200);
    expect(answer.bodyError).toBeNull(); // the response body ended; it did not break
    expect(answer.body.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const errors = answer.chunks.filter((chunk) => chunk.type === "error");
    expect(errors).toEqual([{ type: "error", errorText: "The model failed to answer. Please try again." }]);
    if (mode === "break") expect(answer.text).toBe(FAKE_ANSWER_WORDS.slice(0, 3).join(""));
    if (mode !== "connection-refused") expect(fake.requests(mode) - requestsBefore).toBe(attempts);
    if (mode.startsWith("stall")) {
      expect(elapsed).toBeGreaterThanOrEqual(SILENCE_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(SILENCE_TIMEOUT_MS + 5_000);
    }

    // Settled, and by the rule: a second settle finds nothing left to apply.
    expect(answer.reserved).toBeGreaterThan(0);
    const expected = charge === "nothing" ? BUDGET : BUDGET - answer.reserved;
    expect((await store.read(userId))?.tokensRemaining).toBe(expected);
    // One line about the failure, and no stack or request body (the user's conversation) in the log.
    expect(logs.at("error")).toEqual([
      expect.objectContaining({ msg: "chat: the model failed to answer", chatRequestId: expect.any(String), error: expect.stringMatching(/^\w+/) }),
    ]);
    expect(logLines.join("")).not.toMatch(/\bat \S+ \(/); // no stack
    expect(logLines.join("")).not.toContain("Tell me about the budget");
    expect(unhandled).toEqual([]);
  });

  it(`${failures.length} failures in parallel leave every budget settled and nothing unhandled`, async () => {
    const logs = captureLogs();
    try {
      const modes: FakeModelMode[] = ["unauthorized", "break", "stall-after-headers", "server-error", "break", "stall", "rate-limited"];
      const users = modes.map((mode) => `model-parallel-${mode}-${crypto.randomUUID()}`);
      for (const userId of users) {
        bridge?.track(userId);
        await getBudgetStore().reset(userId, BUDGET, periodEndsAt);
      }
      const answers = await Promise.all(modes.map((mode, i) => chat(users[i] ?? "", mode)));
      for (const [i, mode] of modes.entries()) {
        const answer = answers[i];
        expect(answer?.bodyError).toBeNull();
        expect(answer?.chunks.filter((chunk) => chunk.type === "error")).toHaveLength(1);
        const refused = mode === "unauthorized" || mode === "server-error" || mode === "rate-limited";
        expect((await getBudgetStore().read(users[i] ?? ""))?.tokensRemaining).toBe(refused ? BUDGET : BUDGET - (answer?.reserved ?? 0));
      }
      expect(unhandled).toEqual([]);
    } finally {
      logs.restore();
    }
  });
});

// Saved conversations on the real database: the chat records each turn and each answer with its model, tokens and
// charge; the chats router lists, reopens, renames and deletes them, only the caller's own; an account's deletion
// takes them along.
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { simulateReadableStream } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { saveAnswer, saveUserTurn } from "@/db/queries/chats";
import { chatMessages, chats } from "@/db/schema";
import { databaseChatHistory, titleFrom } from "@/server/chat/history";
import { loadApp } from "../../support/load-app";

type App = Awaited<ReturnType<typeof loadApp>>;
let app: App;
const periodEnd = () => new Date(Date.now() + 86_400_000);

beforeAll(async () => {
  app = await loadApp();
});

async function newUser() {
  return app.signUp({ email: `chats-${randomUUID()}@example.com`, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
}

async function ask(
  userId: string,
  chatId: string | undefined,
  texts: string[],
  options: { model?: string; budget?: number; languageModel?: LanguageModelV3; failSettle?: boolean } = {},
) {
  const memory = app.createMemoryBudgetStore();
  // failSettle: the store goes down after the reservation (every settle throws), so the reservation stays charged.
  const store = options.failSettle
    ? {
        ...memory,
        settle: async () => {
          throw new Error("budget store down");
        },
      }
    : memory;
  await store.reset(userId, options.budget ?? 1_000_000, periodEnd());
  const messages = texts.map((text, i) => ({ id: `m${i}`, role: i % 2 ? "assistant" : "user", parts: [{ type: "text", text }] }));
  const request = new Request("http://app/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: chatId, messages, ...(options.model ? { model: options.model } : {}) }),
  });
  const { createDemoModel } = await import("@/server/chat/demo-model");
  const response = await app
    .startChat(request, { userId }, {
      store,
      model: options.languageModel ?? createDemoModel({ delayMs: 0 }),
      getEntitlement: async () => ({ active: true, tokenBudget: 1_000_000, periodEndsAt: periodEnd(), models: ["small", "large"] }),
      restoreBudget: async () => {},
    })
    .catch((error: unknown) => app.errorResponse(error));
  const body = await response.text();
  return { status: response.status, body, store, reserved: Number(response.headers.get("x-tokens-reserved")) };
}

describe("saved chats", () => {
  it("saves each turn and answer with its model, tokens and charge, and the charge equals what the budget lost", async () => {
    const user = await newUser();
    const chatId = `c-${randomUUID()}`;
    const first = await ask(user.id, chatId, ["How does the token budget work here?"]);
    expect(first.status).toBe(200);
    const firstLeft = (await first.store.read(user.id))?.tokensRemaining ?? 0;

    const db = await app.getDb();
    const caller = app.createCaller({ db, userId: user.id });
    const saved = await caller.chats.get({ id: chatId });
    expect(saved.title).toBe("How does the token budget work here?");
    expect(saved.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    const answer = saved.messages[1];
    expect(answer?.model).toBe("small");
    expect(answer?.text.length).toBeGreaterThan(0);
    expect(answer?.charge).toBe(1_000_000 - firstLeft);
    expect((answer?.inputTokens ?? 0) + (answer?.outputTokens ?? 0)).toBe(answer?.charge);

    // Continue with the history the page sends; the large model's weights show in the stored charge.
    const second = await ask(user.id, chatId, ["How does the token budget work here?", answer?.text ?? "", "And the large model?"], { model: "large" });
    expect(second.status).toBe(200);
    const again = await caller.chats.get({ id: chatId });
    expect(again.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    const large = again.messages[3];
    expect(large?.model).toBe("large");
    expect(large?.charge).toBe((large?.inputTokens ?? 0) * 4 + (large?.outputTokens ?? 0) * 16);
    expect(large?.charge).toBe(1_000_000 - ((await second.store.read(user.id))?.tokensRemaining ?? 0));
  });

  it("does not save a retried turn twice, nor anything without a chat id", async () => {
    const user = await newUser();
    const chatId = `c-${randomUUID()}`;
    const db = await app.getDb();
    // A refusal before the model runs (no budget for the prompt) saves nothing.
    expect((await ask(user.id, chatId, ["Retry me"], { budget: 1 })).status).toBe(429);
    expect(await db.select().from(chats).where(eq(chats.id, chatId))).toEqual([]);
    // A model that fails keeps the user's turn (no answer); the retry of the same turn does not add it again.
    const failing = new MockLanguageModelV3({
      doStream: async () => {
        throw new Error("model down");
      },
    });
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await ask(user.id, chatId, ["Retry me"], { languageModel: failing });
    } finally {
      quiet.mockRestore();
    }
    expect((await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId))).map((r) => r.role)).toEqual(["user"]);
    expect((await ask(user.id, chatId, ["Retry me"])).status).toBe(200);
    const rows = await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId));
    expect(rows.map((r) => r.role).sort()).toEqual(["assistant", "user"]);

    expect((await ask(user.id, undefined, ["Not saved"])).status).toBe(200);
    expect((await db.select().from(chats).where(eq(chats.userId, user.id))).map((c) => c.id)).toEqual([chatId]);
  });

  it("saves a turn in one statement: a new chat, a retried turn once, turns of one chat sent at once, another user's chat never", async () => {
    const user = await newUser();
    const other = await newUser();
    const chatId = `c-${randomUUID()}`;
    const db = await app.getDb();
    const turn = (text: string, userId = user.id) => saveUserTurn(db, { userId, chatId, title: "t", text, at: new Date() });
    expect(await turn("Twice")).toBe("saved");
    expect(await turn("Twice")).toBe("repeated");
    expect((await Promise.all([turn("One"), turn("Two")])).sort()).toEqual(["saved", "saved"]);
    expect(await turn("Hijack", other.id)).toBe("foreign");
    const [chat] = await db.select().from(chats).where(eq(chats.id, chatId));
    expect(chat?.userId).toBe(user.id);
    expect((await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId))).map((r) => r.text).sort()).toEqual(["One", "Twice", "Two"]);
    // An answer to a chat deleted meanwhile is dropped, not an error.
    await db.delete(chats).where(eq(chats.id, chatId));
    const answer = { id: randomUUID(), text: "a", model: "small", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, charge: 2, userId: user.id, chatId, at: new Date() };
    expect(await saveAnswer(db, answer)).toBe(false);
  });

  it("records a known chat's turn with its answer at the end, each answer saved before its response ends", async () => {
    const user = await newUser();
    const chatId = `c-${randomUUID()}`;
    const db = await app.getDb();
    expect((await ask(user.id, chatId, ["Again"])).status).toBe(200);
    expect(databaseChatHistory.isKnownChat(user.id, chatId)).toBe(true);
    // The same words sent again right after an answer are a new turn, not a retry: the answer before them is saved
    // by the time its response ends, so the next turn finds it.
    for (let i = 0; i < 5; i++) expect((await ask(user.id, chatId, ["Again"])).status).toBe(200);
    const rows = await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId)).orderBy(chatMessages.createdAt, chatMessages.id);
    expect(rows.map((r) => r.role)).toEqual(Array.from({ length: 6 }, () => ["user", "assistant"]).flat());

    // A model that fails on a known chat still keeps the question, alone; its retry adds only the answer.
    const failing = new MockLanguageModelV3({
      doStream: async () => {
        throw new Error("model down");
      },
    });
    await ask(user.id, chatId, ["Will this fail?"], { languageModel: failing });
    expect((await ask(user.id, chatId, ["Will this fail?"])).status).toBe(200);
    const after = await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId)).orderBy(chatMessages.createdAt, chatMessages.id);
    expect(after.slice(12).map((r) => [r.role, r.role === "user" ? r.text : "answer"])).toEqual([
      ["user", "Will this fail?"],
      ["assistant", "answer"],
    ]);

    // Written directly: a turn with its answer goes to the owner's chat only.
    const intruder = await newUser();
    const answer = { id: randomUUID(), text: "a", model: "small", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, charge: 2, at: new Date() };
    const turn = { userId: intruder.id, chatId, title: "t", text: "Mine now", at: new Date() };
    expect(await saveUserTurn(db, turn, answer)).toBe("foreign");
    expect((await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId))).length).toBe(14);
  });

  it("saves the whole reservation as the answer's charge when the settle fails (the budget keeps it charged)", async () => {
    const user = await newUser();
    const chatId = `c-${randomUUID()}`;
    const answered = await ask(user.id, chatId, ["What happens when the store fails?"], { failSettle: true });
    expect(answered.status).toBe(200);
    expect(answered.reserved).toBeGreaterThan(0);
    const db = await app.getDb();
    const [answer] = await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId)).then((rows) => rows.filter((r) => r.role === "assistant"));
    // What the model used is far below the reservation (an answer of a few dozen tokens against 1,024 + the prompt).
    expect((answer?.inputTokens ?? 0) + (answer?.outputTokens ?? 0)).toBeLessThan(answered.reserved);
    expect(answer?.charge).toBe(answered.reserved);
    expect((await answered.store.read(user.id))?.tokensRemaining).toBe(1_000_000 - answered.reserved);
  });

  it("refuses another user's chat id (404) without writing or charging, and hides it from every procedure", async () => {
    const owner = await newUser();
    const intruder = await newUser();
    const chatId = `c-${randomUUID()}`;
    expect((await ask(owner.id, chatId, ["Mine"])).status).toBe(200);

    // The turn is saved while the answer's stream is set up; the model is called only for the chat's owner.
    let modelCalls = 0;
    const counting = new MockLanguageModelV3({
      doStream: async () => {
        modelCalls++;
        throw new Error("the model must not be called for another user's chat");
      },
    });
    // The owner's chat is known to this process now (their turn was saved here): the intruder still waits and is refused.
    expect(databaseChatHistory.isKnownChat(owner.id, chatId)).toBe(true);
    expect(databaseChatHistory.isKnownChat(intruder.id, chatId)).toBe(false);
    const attempt = await ask(intruder.id, chatId, ["Let me in"], { languageModel: counting });
    expect(attempt.status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(modelCalls).toBe(0);
    expect(JSON.parse(attempt.body)).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((await attempt.store.read(intruder.id))?.tokensRemaining).toBe(1_000_000);

    const db = await app.getDb();
    const caller = app.createCaller({ db, userId: intruder.id });
    await expect(caller.chats.get({ id: chatId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.chats.rename({ id: chatId, title: "Taken" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.chats.delete({ id: chatId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await caller.chats.list()).toEqual([]);
    const ownerChat = await app.createCaller({ db, userId: owner.id }).chats.get({ id: chatId });
    expect(ownerChat.title).toBe("Mine");
    expect(ownerChat.messages.map((m) => m.text)).not.toContain("Let me in");
  });

  it("saves an answer whose text holds a NUL from the model, with U+FFFD in its place", async () => {
    const user = await newUser();
    const chatId = `z-${randomUUID()}`;
    const nulModel = new MockLanguageModelV3({
      doStream: async () => ({
        stream: simulateReadableStream({
          chunks: [
            { type: "text-start", id: "t" },
            { type: "text-delta", id: "t", delta: "zero\u0000byte" },
            { type: "text-end", id: "t" },
            {
              type: "finish",
              finishReason: { unified: "stop", raw: "stop" },
              usage: { inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 3, text: 3, reasoning: undefined } },
            },
          ],
        }),
      }),
    });
    expect((await ask(user.id, chatId, ["Say something odd"], { languageModel: nulModel })).status).toBe(200);
    const saved = await app.createCaller({ db: await app.getDb(), userId: user.id }).chats.get({ id: chatId });
    expect(saved.messages.map((m) => [m.role, m.text, m.charge])).toEqual([
      ["user", "Say something odd", null],
      ["assistant", "zero\uFFFDbyte", 8],
    ]);
  });

  it("lists newest first, renames with a clear error for bad titles, deletes with its messages", async () => {
    const user = await newUser();
    const db = await app.getDb();
    const caller = app.createCaller({ db, userId: user.id });
    const ids = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    for (const id of ids) expect((await ask(user.id, id, [`Question ${id}`])).status).toBe(200);
    expect((await caller.chats.list()).map((c) => c.id)).toEqual([...ids].reverse());

    expect(await caller.chats.rename({ id: ids[0] ?? "", title: "  Budget   notes " })).toEqual({ id: ids[0], title: "Budget notes" });
    await expect(caller.chats.rename({ id: ids[0] ?? "", title: "   " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller.chats.rename({ id: ids[0] ?? "", title: "x".repeat(101) })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const refused: Array<[title: string, message: string]> = [
      ["a\u0000b", "A title cannot contain control characters."],
      ["bell\u0007", "A title cannot contain control characters."],
      ["\u200b\u200b", "A title needs at least one visible character."],
    ];
    for (const [title, message] of refused) {
      await expect(caller.chats.rename({ id: ids[0] ?? "", title })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining(message) });
    }
    // Emoji joined by a zero-width joiner are a visible title.
    expect(await caller.chats.rename({ id: ids[0] ?? "", title: "Team \u{1F469}\u200D\u{1F4BB}" })).toEqual({ id: ids[0], title: "Team \u{1F469}\u200D\u{1F4BB}" });
    await expect(caller.chats.get({ id: "../etc" })).rejects.toMatchObject({ code: "BAD_REQUEST" });

    await caller.chats.delete({ id: ids[0] ?? "" });
    expect((await caller.chats.list()).map((c) => c.id)).toEqual([ids[1]]);
    expect(await db.select().from(chatMessages).where(eq(chatMessages.chatId, ids[0] ?? ""))).toEqual([]);
  });

  it("goes with the account: deleting the user removes their chats and messages", async () => {
    const user = await newUser();
    const chatId = `c-${randomUUID()}`;
    expect((await ask(user.id, chatId, ["Forget me"])).status).toBe(200);
    const db = await app.getDb();
    await app.deleteUser(db, user.id);
    expect(await db.select().from(chats).where(eq(chats.id, chatId))).toEqual([]);
    expect(await db.select().from(chatMessages).where(eq(chatMessages.userId, user.id))).toEqual([]);
  });

  it("refuses a malformed chat id with 400 before anything runs", async () => {
    const user = await newUser();
    for (const id of ["has space", "x".repeat(101), "semi;colon"]) expect((await ask(user.id, id, ["hi"])).status).toBe(400);
  });
});

describe("titleFrom", () => {
  it("takes the first message on one line, cut at a word boundary", () => {
    expect(titleFrom("  What\nis   this?  ")).toBe("What is this?");
    expect(titleFrom("bell\u0007 and\u001b[31m escape")).toBe("bell and [31m escape");
    expect(titleFrom("")).toBe("New chat");
    const long = titleFrom("word ".repeat(40));
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long.endsWith("word…")).toBe(true);
    expect(titleFrom("y".repeat(80))).toBe(`${"y".repeat(59)}…`);
  });
});

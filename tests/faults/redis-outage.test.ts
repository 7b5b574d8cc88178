// Fault 3: the Redis behind the Upstash bridge goes away (a TCP proxy between bridge and Redis is cut). Chat must
// answer 503 without ever calling the model, and once Redis is back every budget must be exactly what it was.
// Needs a real Redis: skipped when REDIS_URL is not set (the in-process store has no outage to simulate).
import { describe, expect, it, vi } from "vitest";
import { startBridgeBudgetStore } from "./bridge";
import { hostPort, startTcpProxy, throughProxy } from "../support/tcp-proxy";

const redisUrl = process.env.REDIS_URL;
const proxy = redisUrl ? await startTcpProxy(hostPort(redisUrl, 6379)) : null;
const bridge = redisUrl && proxy ? await startBridgeBudgetStore({ redisUrl: throughProxy(redisUrl, proxy.port) }) : null;

const { startChat } = await import("@/server/chat/chat-request");
const { errorResponse } = await import("@/server/errors");
// What POST /api/chat does: start the chat, and map a thrown AppError to its response.
const handleChatRequest = (...args: Parameters<typeof startChat>) => startChat(...args).catch((error: unknown) => errorResponse(error));
const { createDemoModel } = await import("@/server/chat/demo-model");
const { getBudgetStore, budgetKey } = await import("@/server/usage");

// The demo model, counting every call that reached it.
let modelCalls = 0;
const demo = createDemoModel({ delayMs: 0 });
const model = new Proxy(demo, {
  get(target, property, receiver) {
    if (property === "doStream") {
      return (options: Parameters<typeof demo.doStream>[0]) => {
        modelCalls += 1;
        return target.doStream(options);
      };
    }
    return Reflect.get(target, property, receiver);
  },
});
const periodEndsAt = new Date(Date.now() + 24 * 60 * 60 * 1000);
const deps = {
  model,
  getEntitlement: async () => ({ active: true, tokenBudget: 50_000, periodEndsAt, models: ["small" as const] }),
  restoreBudget: async () => {},
};

async function chat(userId: string) {
  const request = new Request("http://app/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "How does the budget work?" }] }] }),
  });
  const response = await handleChatRequest(request, { userId }, deps);
  const body = await response.text(); // to the end, so the settle has run
  return { status: response.status, body };
}

describe.runIf(redisUrl)("Redis behind the bridge goes away (needs REDIS_URL: skipped on the in-process store)", () => {
  it("answers 503 without calling the model while it is gone, and keeps every budget intact", async () => {
    if (!bridge || !proxy) throw new Error("unreachable");
    const store = getBudgetStore();
    const userIds = Array.from({ length: 5 }, (_, i) => `redis-outage-${i}-${crypto.randomUUID()}`);
    for (const userId of userIds) {
      bridge.track(userId);
      expect((await store.reset(userId, 50_000, periodEndsAt)).applied).toBe(true);
      expect((await chat(userId)).status).toBe(200);
    }
    const before = await Promise.all(userIds.map((userId) => bridge.direct.get(budgetKey(userId))));
    expect(before.every((value) => value !== null && Number(value) < 50_000)).toBe(true);
    const callsBefore = modelCalls;

    await proxy.cut();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const started = Date.now();
      const refused = await Promise.all([...userIds, ...userIds].map((userId) => chat(userId)));
      const elapsed = Date.now() - started;
      for (const answer of refused) {
        expect(answer.status).toBe(503);
        expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "SERVICE_UNAVAILABLE", message: expect.stringContaining("token budget") } });
      }
      expect(modelCalls).toBe(callsBefore);
      expect(elapsed).toBeLessThan(15_000);
      // Behind the bridge, nothing moved.
      expect(await Promise.all(userIds.map((userId) => bridge.direct.get(budgetKey(userId))))).toEqual(before);
    } finally {
      logged.mockRestore();
      await proxy.restore();
    }

    // Back: the bridge reconnects, budgets read as before, and chat works and charges again.
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await store.read(userIds[0] ?? "");
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const after = await Promise.all(userIds.map((userId) => store.read(userId)));
    expect(after.map((snapshot) => String(snapshot?.tokensRemaining))).toEqual(before);
    expect((await chat(userIds[0] ?? "")).status).toBe(200);
    expect(modelCalls).toBe(callsBefore + 1);
    expect(Number(await bridge.direct.get(budgetKey(userIds[0] ?? "")))).toBeLessThan(Number(before[0]));
  });
});


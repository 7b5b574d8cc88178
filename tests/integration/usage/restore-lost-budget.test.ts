// Chat's one repair step, against both stores: a paying user whose budget key was lost under a surviving period
// marker gets the plan's full budget for the period back (Upstash); with no record at all (the in-process store or
// a flushed Redis) billing is asked to re-derive the period from Stripe instead. Without the step: 429 until renewal.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startChat, type ChatDeps } from "@/server/chat/chat-request";
import { createDemoModel } from "@/server/chat/demo-model";
import { errorResponse } from "@/server/errors";
import { captureLogs } from "../../support/log-capture";
import { budgetKey, createMemoryBudgetStore, createUpstashBudgetStore, periodMarkerKey, type BudgetStore } from "@/server/usage";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";

const PLAN_BUDGET = 5_000;
const prefix = `restore-${randomUUID().slice(0, 8)}-`;
const periodEnd = () => new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000);

async function chat(userId: string, store: BudgetStore, periodEndsAt: Date, restoreBudget: ChatDeps["restoreBudget"]) {
  const request = new Request("http://app/api/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ id: "m", role: "user", parts: [{ type: "text", text: "hello" }] }] }),
  });
  const response = await startChat(request, { userId }, {
    store,
    model: createDemoModel({ delayMs: 0 }),
    getEntitlement: async () => ({ active: true, tokenBudget: PLAN_BUDGET, periodEndsAt, models: ["small"] }),
    restoreBudget,
  }).catch((error: unknown) => errorResponse(error));
  await response.text();
  return response.status;
}

const noBillingRestore = async () => {};

describe.runIf(redisUrl)("restoring a lost budget: Upstash store through the bridge and a real Redis", () => {
  let fixture: BridgeFixture;
  beforeAll(async () => {
    fixture = await startBridgeFixture([`chatbot-usage:${prefix}*`]);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it("DEL chatbot-usage:<id> under a surviving marker: the next chat restores the plan's full budget and answers", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const userId = `${prefix}${randomUUID()}`;
    const end = periodEnd();
    await store.reset(userId, PLAN_BUDGET, end);
    expect(await chat(userId, store, end, noBillingRestore)).toBe(200);
    const afterFirst = (await store.read(userId))?.tokensRemaining ?? 0;
    expect(afterFirst).toBeLessThan(PLAN_BUDGET);

    await fixture.redis.del(budgetKey(userId));
    expect(await fixture.redis.exists(periodMarkerKey(userId))).toBe(1);
    const billing = vi.fn(noBillingRestore);
    const logs = captureLogs();
    try {
      expect(await chat(userId, store, end, billing)).toBe(200);
    } finally {
      logs.restore();
    }
    // The full budget, minus this answer, with the key expiring at the period end again; Stripe was not needed.
    const used = PLAN_BUDGET - afterFirst;
    expect(await store.read(userId)).toEqual({ tokensRemaining: PLAN_BUDGET - used, resetsAt: end });
    expect(Math.abs((await fixture.redis.pexpiretime(budgetKey(userId))) - end.getTime())).toBeLessThanOrEqual(1);
    expect(billing).not.toHaveBeenCalled();
    expect(logs.at("warn")).toEqual([expect.objectContaining({ msg: "chat: restored a lost budget", userId, tokens: PLAN_BUDGET })]);
  });

  it("a marker of another period proves nothing: billing decides, and finding nothing paid the answer is 429", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const userId = `${prefix}${randomUUID()}`;
    const oldPeriod = periodEnd();
    await store.reset(userId, PLAN_BUDGET, oldPeriod);
    await fixture.redis.del(budgetKey(userId));
    const billing = vi.fn(noBillingRestore);
    const renewed = new Date(oldPeriod.getTime() + 30 * 24 * 3_600_000);
    expect(await chat(userId, store, renewed, billing)).toBe(429);
    expect(billing).toHaveBeenCalledTimes(1);
    expect(await store.read(userId)).toBeNull();
  });

  it("Redis flushed (no marker either): billing re-derives the period, and the chat answers from it", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const userId = `${prefix}${randomUUID()}`;
    const end = periodEnd();
    const billing = vi.fn(async (id: string) => {
      await store.reset(id, PLAN_BUDGET, end);
    });
    expect(await chat(userId, store, end, billing)).toBe(200);
    expect(billing).toHaveBeenCalledTimes(1);
    expect((await store.read(userId))?.tokensRemaining).toBeLessThan(PLAN_BUDGET);
  });
});

describe("restoring a lost budget: in-process store", () => {
  it("a lost store (no budget, no marker): billing re-derives the period from Stripe, and the chat answers", async () => {
    const store = createMemoryBudgetStore();
    const userId = `${prefix}${randomUUID()}`;
    const end = periodEnd();
    const billing = vi.fn(async (id: string) => {
      await store.reset(id, PLAN_BUDGET, end);
    });
    expect(await chat(userId, store, end, billing)).toBe(200);
    expect(billing).toHaveBeenCalledTimes(1);
    const remaining = (await store.read(userId))?.tokensRemaining ?? 0;
    expect(remaining).toBeLessThan(PLAN_BUDGET);
    // Present again: the next chat takes no repair step.
    expect(await chat(userId, store, end, billing)).toBe(200);
    expect(billing).toHaveBeenCalledTimes(1);
  });

  it("billing finds nothing paid: 429, and the store's restore grants nothing on its own", async () => {
    const store = createMemoryBudgetStore();
    const userId = `${prefix}${randomUUID()}`;
    expect(await chat(userId, store, periodEnd(), noBillingRestore)).toBe(429);
    expect(await store.read(userId)).toBeNull();
  });
});

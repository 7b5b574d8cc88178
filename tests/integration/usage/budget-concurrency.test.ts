// Many requests at once against one user's budget: exactly the affordable number are admitted and the total
// charged never exceeds the budget, for the memory store and for the Upstash store over the bridge.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { budgetKey, createMemoryBudgetStore, createUpstashBudgetStore, type BudgetStore } from "@/server/usage";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";

/** Small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Target {
  /** Stores sharing one budget, as separate app servers would; requests are spread across them. */
  stores(): BudgetStore[];
  /** The raw remaining count, where the store has one (Redis), to check it is never negative. */
  raw?(userId: string): Promise<string | null>;
  userPrefix: string;
}

function describeConcurrency(name: string, target: () => Target) {
  describe(`${name}: concurrency`, () => {
    const periodEnd = () => new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    const user = () => `${target().userPrefix}${randomUUID()}`;

    it("with 10,000 tokens left, 100 parallel reserves of 1,000 admit exactly 10", async () => {
      const stores = target().stores();
      const [first] = stores;
      if (!first) throw new Error("no store");
      const u = user();
      const end = periodEnd();
      await first.reset(u, 10_000, end);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => stores[i % stores.length]!.reserve(u, `req-${i}`, 1_000)),
      );
      const admitted = results.filter((result) => result.ok);
      expect(admitted).toHaveLength(10);
      expect(admitted.every((result) => result.ok && result.granted === 1_000)).toBe(true);
      expect(results.every((result) => result.tokensRemaining >= 0)).toBe(true);
      for (const refused of results.filter((result) => !result.ok)) {
        expect(refused).toEqual({ ok: false, tokensRemaining: 0, resetsAt: end });
      }
      expect(await first.read(u)).toEqual({ tokensRemaining: 0, resetsAt: end });
      if (target().raw) expect(await target().raw!(u)).toBe("0");
    });

    it("300 requests with random bounds, retries and settles in random order charge exactly what they used", async () => {
      const seed = Date.now() % 1_000_000;
      const rng = random(seed);
      const stores = target().stores();
      const budget = 100_000;
      const u = user();
      await stores[0]!.reset(u, budget, periodEnd());

      const observed: number[] = [];
      const charged = await Promise.all(
        Array.from({ length: 300 }, async (_, i) => {
          const store = stores[rng.int(0, stores.length - 1)]!;
          const upperBound = rng.int(200, 2_000);
          const retryReserve = rng.next() < 0.2;
          const retrySettle = rng.next() < 0.2;
          const beforeReserve = rng.int(0, 20);
          const beforeSettle = rng.int(0, 30);
          const usage = rng.next();
          await sleep(beforeReserve);
          const [reserved, retried] = await Promise.all([
            store.reserve(u, `req-${i}`, upperBound),
            retryReserve ? store.reserve(u, `req-${i}`, upperBound) : Promise.resolve(undefined),
          ]);
          observed.push(reserved.tokensRemaining);
          if (!reserved.ok) return 0;
          if (retried) expect(retried).toMatchObject({ ok: true, granted: reserved.granted });
          await sleep(beforeSettle);
          // The caller caps the model to the grant, so usage never exceeds it.
          const actual = Math.floor(usage * (reserved.granted + 1));
          const settles = await Promise.all(
            Array.from({ length: retrySettle ? 2 : 1 }, () => store.settle(u, `req-${i}`, actual)),
          );
          expect(settles.filter((settled) => settled.applied), `seed ${seed}`).toHaveLength(1);
          observed.push(...settles.map((settled) => settled.tokensRemaining));
          return actual;
        }),
      );

      const used = charged.reduce((sum, tokens) => sum + tokens, 0);
      const remaining = (await stores[0]!.read(u))?.tokensRemaining ?? -1;
      expect(remaining, `seed ${seed}`).toBeGreaterThanOrEqual(0);
      expect(budget - remaining, `seed ${seed}`).toBe(used);
      expect(used).toBeLessThanOrEqual(budget);
      expect(Math.min(...observed)).toBeGreaterThanOrEqual(0);
      expect(charged.filter((tokens) => tokens > 0).length).toBeGreaterThan(50);
      if (target().raw) expect(await target().raw!(u)).toBe(String(remaining));
    });

    it("usage beyond the grants is charged but never takes the budget below zero", async () => {
      const seed = Date.now() % 1_000_000;
      const rng = random(seed);
      const stores = target().stores();
      const budget = 50_000;
      const u = user();
      await stores[0]!.reset(u, budget, periodEnd());
      const observed: number[] = [];
      const usage = await Promise.all(
        Array.from({ length: 300 }, async (_, i) => {
          const store = stores[i % stores.length]!;
          await sleep(rng.int(0, 20));
          const reserved = await store.reserve(u, `req-${i}`, rng.int(100, 1_500));
          observed.push(reserved.tokensRemaining);
          if (!reserved.ok) return 0;
          await sleep(rng.int(0, 20));
          const actual = rng.int(0, reserved.granted * 3);
          observed.push((await store.settle(u, `req-${i}`, actual)).tokensRemaining);
          return actual;
        }),
      );
      const used = usage.reduce((sum, tokens) => sum + tokens, 0);
      const remaining = (await stores[0]!.read(u))?.tokensRemaining ?? -1;
      expect(remaining, `seed ${seed}`).toBeGreaterThanOrEqual(0);
      expect(budget - remaining, `seed ${seed}`).toBeLessThanOrEqual(Math.min(budget, used));
      expect(Math.min(...observed)).toBeGreaterThanOrEqual(0);
      if (target().raw) expect(Number(await target().raw!(u))).toBeGreaterThanOrEqual(0);
    });
  });
}

const memory = createMemoryBudgetStore();
describeConcurrency("memory store", () => ({ stores: () => [memory], userPrefix: "memory-" }));

describe.runIf(redisUrl)("Upstash store through the bridge", () => {
  const prefix = `concurrency-${randomUUID().slice(0, 8)}-`;
  let fixture: BridgeFixture;
  let stores: BudgetStore[] = [];
  beforeAll(async () => {
    fixture = await startBridgeFixture([`chatbot-usage:${prefix}*`]);
    stores = Array.from({ length: 8 }, () => createUpstashBudgetStore(fixture.client()));
  });
  afterAll(async () => {
    await fixture?.close();
  });

  describeConcurrency("upstash store", () => ({
    stores: () => stores,
    raw: (userId) => fixture.redis.get(budgetKey(userId)),
    userPrefix: prefix,
  }));
});

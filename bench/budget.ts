// The token budget's reserve + settle through the Upstash store (via the bridge to Redis) and the in-process store,
// against a bare Redis PING from the same process; and overspend at high concurrency.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { startUpstashBridge } from "../sandbox/upstash";
import { log, type BenchContext } from "./context";
import { medianRun, round, timed, type RunResult } from "./stats";

export interface BudgetFigures {
  c1: RunResult;
  c16: RunResult;
  ratioToPing: { p50: number; opsPerSecC16: number } | null;
  overspend: { budget: number; granted: number; remaining: number; overspendTokens: number };
}

/** The stores under test, cleaned up (keys deleted, bridge closed) with the bench. */
export async function openBudgetStores(ctx: BenchContext, knownUsers: () => string[]) {
  const { app, realRedis, cleanups } = ctx;
  // As the app runs it: every change written to its budgets file.
  const budgetsDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bench-budgets-"));
  cleanups.push(() => fs.rmSync(budgetsDir, { recursive: true, force: true }));
  const memory = app.createMemoryBudgetStore({ file: path.join(budgetsDir, "budgets.json") });
  let upstash: typeof memory | null = null;
  let ioredis: IORedis | null = null;
  if (realRedis) {
    const token = `bench-${crypto.randomUUID()}`;
    const bridge = await startUpstashBridge({ port: 0, redisUrl: realRedis, token });
    cleanups.unshift(() => bridge.close());
    upstash = app.createUpstashBudgetStore(new UpstashRedis({ url: bridge.url, token, enableTelemetry: false, retry: { retries: 2, backoff: (n) => 50 * 2 ** n } }));
    const redis = new IORedis(realRedis);
    ioredis = redis;
    cleanups.unshift(async () => {
      for (const userId of knownUsers()) {
        const keys = await redis.keys(`chatbot-usage:${userId}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
    });
  }
  return { memory, upstash, ioredis };
}

export type BudgetStore = Awaited<ReturnType<typeof openBudgetStores>>["memory"];

export async function measureBudget(
  stores: Awaited<ReturnType<typeof openBudgetStores>>,
  options: { runs: number; periodEnd: Date; newUser: (prefix: string) => string },
) {
  const { memory, upstash, ioredis } = stores;
  const { runs, periodEnd, newUser } = options;
  const reserveSettle = (store: BudgetStore, userId: string) => async () => {
    const requestId = crypto.randomUUID();
    const reserved = await store.reserve(userId, requestId, 1_500);
    if (!reserved.ok) return false;
    await store.settle(userId, requestId, 700);
    return true;
  };
  const named: Array<[string, BudgetStore]> = [["in-process (budgets file)", memory], ...(upstash ? ([["upstash via bridge", upstash]] as Array<[string, BudgetStore]>) : [])];
  const pingRuns = { c1: [] as RunResult[], c16: [] as RunResult[] };
  const storeRuns: Record<string, { c1: RunResult[]; c16: RunResult[] }> = {};
  for (const [name] of named) storeRuns[name] = { c1: [], c16: [] };
  for (let r = 0; r < runs; r++) {
    if (ioredis) {
      pingRuns.c1.push(await timed(500, 1, async () => (await ioredis.ping()) === "PONG"));
      pingRuns.c16.push(await timed(2_000, 16, async () => (await ioredis.ping()) === "PONG"));
    }
    for (const [name, store] of named) {
      const userId = newUser("bench-budget");
      await store.reset(userId, 1_000_000_000, periodEnd);
      storeRuns[name]?.c1.push(await timed(500, 1, reserveSettle(store, userId)));
      storeRuns[name]?.c16.push(await timed(2_000, 16, reserveSettle(store, userId)));
    }
  }
  const ping = ioredis ? { c1: medianRun(pingRuns.c1), c16: medianRun(pingRuns.c16) } : null;
  const figures: Record<string, BudgetFigures> = {};
  for (const [name, store] of named) {
    const c1 = medianRun(storeRuns[name]?.c1 ?? []);
    const c16 = medianRun(storeRuns[name]?.c16 ?? []);
    // Overspend: 64 requests at a time each reserving 4,000 tokens and using all of it, against a 100,000 budget.
    const userId = newUser("bench-overspend");
    await store.reset(userId, 100_000, periodEnd);
    let granted = 0;
    await timed(400, 64, async () => {
      const requestId = crypto.randomUUID();
      const reserved = await store.reserve(userId, requestId, 4_000);
      if (!reserved.ok) return true;
      granted += reserved.granted;
      await store.settle(userId, requestId, reserved.granted);
      return true;
    });
    const remaining = (await store.read(userId))?.tokensRemaining ?? NaN;
    figures[name] = {
      c1,
      c16,
      ratioToPing: ping ? { p50: c1.p50 / ping.c1.p50, opsPerSecC16: c16.opsPerSec / ping.c16.opsPerSec } : null,
      overspend: { budget: 100_000, granted, remaining, overspendTokens: Math.max(0, granted - 100_000) + Math.max(0, -remaining) },
    };
    log(`budget ${name}: c1 p50 ${round(c1.p50, 3)} p99 ${round(c1.p99, 3)} ms; c16 ${round(c16.opsPerSec, 0)} ops/s; overspend ${Math.max(0, granted - 100_000)}`);
  }
  if (ping) log(`redis PING: c1 p50 ${round(ping.c1.p50, 3)} ms; c16 ${round(ping.c16.opsPerSec, 0)} ops/s`);
  return { stores: figures, redisPing: ping ?? ("not measured (REDIS_URL not set)" as const) };
}

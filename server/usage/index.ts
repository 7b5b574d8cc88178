// Picks the token budget store once per process: Upstash Redis when its REST URL and token are set, otherwise
// the in-process store (single server only: refused when APP_INSTANCES > 1), kept on globalThis so dev reloads do
// not refill everyone's budget, and in DATA_DIR/budgets.json so a restart does not either.
import path from "node:path";
import { Redis } from "@upstash/redis";
import { env } from "@/lib/env";
import { BudgetStoreUnavailableError, type BudgetSnapshot, type BudgetStore, type ResetResult } from "./budget-store";
import { createMemoryBudgetStore } from "./memory-store";
import { createMemoryOverageStore } from "./memory-overage-store";
import type { OverageStore } from "./overage-store";
import { createUpstashBudgetStore } from "./upstash-store";
import { createUpstashOverageStore } from "./upstash-overage-store";

export * from "./budget-store";
export { createMemoryBudgetStore, type MemoryBudgetStoreOptions } from "./memory-store";
export {
  capKey,
  createUpstashBudgetStore,
  periodMarkerKey,
  reservationKey,
  type UpstashBudgetStoreOptions,
} from "./upstash-store";
export { DEFAULT_RESERVATION_TTL_MS } from "./budget-input";
export * from "./overage-store";
export { createMemoryOverageStore, type MemoryOverageStoreOptions } from "./memory-overage-store";
export { createUpstashOverageStore } from "./upstash-overage-store";

const globalForBudget = globalThis as typeof globalThis & { hourglassMemoryBudgetStore?: BudgetStore; hourglassMemoryOverageStore?: OverageStore };
let upstashStore: BudgetStore | undefined;
let upstashOverageStore: OverageStore | undefined;
let upstashClient: Redis | undefined;

export function getBudgetStore(): BudgetStore {
  const url = env.UPSTASH_REDIS_REST_URL;
  const token = env.UPSTASH_REDIS_REST_TOKEN;
  if (url && token) {
    // Client defaults (auto-pipelining, base64) except the retries: every script is idempotent per request id,
    // so retrying is safe, but the default five with exponential backoff keep a chat waiting ~4 s before its
    // 503 when Redis is down. Two quick retries ride out a blip and fail closed fast.
    upstashClient ??= new Redis({ url, token, retry: { retries: 2, backoff: (retryCount) => 50 * 2 ** retryCount } });
    upstashStore ??= createUpstashBudgetStore(upstashClient);
    return upstashStore;
  }
  // One of several servers (APP_INSTANCES > 1) never counts a budget of its own: the start-up check already refuses
  // this configuration; this keeps a server that skipped it (or a script) failing closed rather than overspending.
  if (env.APP_INSTANCES > 1) {
    throw new BudgetStoreUnavailableError("the in-process store cannot be shared by APP_INSTANCES > 1 servers; set UPSTASH_REDIS_REST_URL", {
      cause: new Error(`APP_INSTANCES=${env.APP_INSTANCES} without UPSTASH_REDIS_REST_URL`),
    });
  }
  globalForBudget.hourglassMemoryBudgetStore ??= createMemoryBudgetStore({ file: path.join(env.DATA_DIR, "budgets.json") });
  return globalForBudget.hourglassMemoryBudgetStore;
}

/** The user's remaining tokens and reset date, or null when they have no budget this period. */
export function readBudget(userId: string): Promise<BudgetSnapshot | null> {
  return getBudgetStore().read(userId);
}

/** Starts a paid period at `budget` tokens; a repeated or stale call for the same period is a no-op. */
export function resetBudget(userId: string, budget: number, periodEnd: Date): Promise<ResetResult> {
  return getBudgetStore().reset(userId, budget, periodEnd);
}

/** The overage ledger (BILLING_OVERAGE=1), in the same backend as the budget store. */
export function getOverageStore(): OverageStore {
  getBudgetStore();
  if (upstashClient) {
    upstashOverageStore ??= createUpstashOverageStore(upstashClient);
    return upstashOverageStore;
  }
  globalForBudget.hourglassMemoryOverageStore ??= createMemoryOverageStore();
  return globalForBudget.hourglassMemoryOverageStore;
}

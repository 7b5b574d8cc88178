// Picks the token budget store once per process: Upstash Redis when its REST URL and token are set, otherwise
// the in-process store (single server only), kept on globalThis so dev reloads do not refill everyone's budget.
import { Redis } from "@upstash/redis";
import { env } from "@/lib/env";
import type { BudgetSnapshot, BudgetStore, ResetResult } from "./budget-store";
import { createMemoryBudgetStore } from "./memory-store";
import { createUpstashBudgetStore } from "./upstash-store";

export * from "./budget-store";
export { createMemoryBudgetStore, type MemoryBudgetStoreOptions } from "./memory-store";
export {
  createUpstashBudgetStore,
  periodMarkerKey,
  reservationKey,
  type UpstashBudgetStoreOptions,
} from "./upstash-store";
export { DEFAULT_RESERVATION_TTL_MS } from "./budget-input";

const globalForBudget = globalThis as typeof globalThis & { hourglassMemoryBudgetStore?: BudgetStore };
let upstashStore: BudgetStore | undefined;

export function getBudgetStore(): BudgetStore {
  const url = env.UPSTASH_REDIS_REST_URL;
  const token = env.UPSTASH_REDIS_REST_TOKEN;
  if (url && token) {
    // Default client settings on purpose (auto-pipelining, base64, 5 retries): every script is idempotent
    // per request id, so a retried request cannot charge twice.
    upstashStore ??= createUpstashBudgetStore(new Redis({ url, token }));
    return upstashStore;
  }
  globalForBudget.hourglassMemoryBudgetStore ??= createMemoryBudgetStore();
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

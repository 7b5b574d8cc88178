// The in-process budget store, the embedded default for a single server: the same semantics as the Upstash
// store (expiry at the period end, reservations that expire and stay charged, a per-period reset marker).
// Each operation runs synchronously inside one call, so operations never interleave. Given a file, the budgets
// outlive the process (see budget-file).
import {
  type BudgetSnapshot,
  type BudgetStore,
  type RaiseCapResult,
  type ReserveResult,
  type ResetResult,
  type SettleResult,
} from "./budget-store";
import {
  DEFAULT_RESERVATION_TTL_MS,
  assertId,
  assertPeriodEnd,
  assertReservationTtl,
  assertTokenCount,
} from "./budget-input";
import { openBudgetFile, type PersistedBudget } from "./budget-file";

export interface MemoryBudgetStoreOptions {
  /** Clock in milliseconds since the epoch; tests inject one to move through periods. */
  now?: () => number;
  reservationTtlMs?: number;
  /** A JSON file that keeps the budgets across restarts (the dev server's `.data/budgets.json`); omitted: memory only. */
  file?: string;
}

type Budget = PersistedBudget;

interface Reservation {
  granted: number;
  /** The period the tokens were taken from; a settle after a reset must not refund into the new period. */
  periodEndMs: number;
  settled: boolean;
  expiresAtMs: number;
}

const SWEEP_EVERY_OPERATIONS = 512;

export function createMemoryBudgetStore(options: MemoryBudgetStoreOptions = {}): BudgetStore {
  const now = options.now ?? Date.now;
  const reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  assertReservationTtl(reservationTtlMs);

  const budgetFile = options.file ? openBudgetFile(options.file) : null;
  const budgets = budgetFile?.load(now()) ?? new Map<string, Budget>();
  const saveBudgets = (at: number) => budgetFile?.save(budgets, at);
  const reservations = new Map<string, Reservation>();
  let operations = 0;

  // Expired entries are dropped lazily, like Redis keys; the periodic sweep only bounds memory.
  function tick(at: number): void {
    operations += 1;
    if (operations % SWEEP_EVERY_OPERATIONS !== 0) return;
    for (const [userId, budget] of budgets) if (at >= budget.periodEndMs) budgets.delete(userId);
    for (const [key, reservation] of reservations) if (at >= reservation.expiresAtMs) reservations.delete(key);
  }

  function liveBudget(userId: string, at: number): Budget | undefined {
    const budget = budgets.get(userId);
    if (budget && at >= budget.periodEndMs) {
      budgets.delete(userId);
      return undefined;
    }
    return budget;
  }

  function liveReservation(key: string, at: number): Reservation | undefined {
    const reservation = reservations.get(key);
    if (reservation && at >= reservation.expiresAtMs) {
      reservations.delete(key);
      return undefined;
    }
    return reservation;
  }

  // A NUL cannot be part of a user id typed by anyone, so the pair never collides.
  const reservationKey = (userId: string, requestId: string) => `${userId}\u0000${requestId}`;

  return {
    async reserve(userId, requestId, upperBound): Promise<ReserveResult> {
      assertId("userId", userId);
      assertId("requestId", requestId);
      assertTokenCount("upperBound", upperBound);
      const at = now();
      tick(at);
      const budget = liveBudget(userId, at);
      const key = reservationKey(userId, requestId);
      const existing = liveReservation(key, at);
      if (existing) {
        return { ok: true, granted: existing.granted, tokensRemaining: Math.max(0, budget?.tokensRemaining ?? 0) };
      }
      if (!budget) return { ok: false, tokensRemaining: 0, resetsAt: null };
      if (budget.tokensRemaining <= 0) {
        return { ok: false, tokensRemaining: 0, resetsAt: new Date(budget.periodEndMs) };
      }
      const granted = Math.min(upperBound, budget.tokensRemaining);
      budget.tokensRemaining -= granted;
      reservations.set(key, {
        granted,
        periodEndMs: budget.periodEndMs,
        settled: false,
        expiresAtMs: at + reservationTtlMs,
      });
      saveBudgets(at);
      return { ok: true, granted, tokensRemaining: budget.tokensRemaining };
    },

    async settle(userId, requestId, actualTokens): Promise<SettleResult> {
      assertId("userId", userId);
      assertId("requestId", requestId);
      assertTokenCount("actualTokens", actualTokens);
      const at = now();
      tick(at);
      const budget = liveBudget(userId, at);
      const reservation = liveReservation(reservationKey(userId, requestId), at);
      if (!reservation || reservation.settled) {
        return { applied: false, tokensRemaining: Math.max(0, budget?.tokensRemaining ?? 0) };
      }
      reservation.settled = true;
      if (!budget || budget.periodEndMs !== reservation.periodEndMs) {
        return { applied: true, tokensRemaining: Math.max(0, budget?.tokensRemaining ?? 0) };
      }
      budget.tokensRemaining = Math.max(0, budget.tokensRemaining + reservation.granted - actualTokens);
      saveBudgets(at);
      return { applied: true, tokensRemaining: budget.tokensRemaining };
    },

    async reset(userId, budget, periodEnd): Promise<ResetResult> {
      assertId("userId", userId);
      assertTokenCount("budget", budget);
      assertPeriodEnd(periodEnd);
      const at = now();
      tick(at);
      const current = liveBudget(userId, at);
      const periodEndMs = periodEnd.getTime();
      if (periodEndMs <= at || (current && periodEndMs <= current.periodEndMs)) {
        return { applied: false, tokensRemaining: Math.max(0, current?.tokensRemaining ?? 0) };
      }
      budgets.set(userId, { tokensRemaining: budget, periodEndMs, capTokens: budget });
      saveBudgets(at);
      return { applied: true, tokensRemaining: budget };
    },

    async raiseCap(userId, cap, periodEnd, options = {}): Promise<RaiseCapResult> {
      assertId("userId", userId);
      assertTokenCount("cap", cap);
      assertPeriodEnd(periodEnd);
      const unrecordedCap = options.unrecordedCap ?? cap;
      assertTokenCount("unrecordedCap", unrecordedCap);
      const at = now();
      tick(at);
      const budget = liveBudget(userId, at);
      if (!budget || budget.periodEndMs !== periodEnd.getTime()) {
        return { applied: false, tokensRemaining: Math.max(0, budget?.tokensRemaining ?? 0) };
      }
      const recorded = budget.capTokens ?? unrecordedCap;
      if (cap <= recorded) {
        if (budget.capTokens === undefined) {
          budget.capTokens = recorded;
          saveBudgets(at);
        }
        return { applied: false, tokensRemaining: Math.max(0, budget.tokensRemaining) };
      }
      budget.tokensRemaining = Math.max(0, budget.tokensRemaining) + (cap - recorded);
      budget.capTokens = cap;
      saveBudgets(at);
      return { applied: true, tokensRemaining: budget.tokensRemaining };
    },

    async restore(userId, budget, periodEnd): Promise<ResetResult> {
      // A budget and its period live in one entry here: nothing can lose one and keep the other, so there is never
      // a surviving record to restore from (a lost file loses both, and billing re-derives the period from Stripe).
      assertId("userId", userId);
      assertTokenCount("budget", budget);
      assertPeriodEnd(periodEnd);
      const at = now();
      tick(at);
      return { applied: false, tokensRemaining: Math.max(0, liveBudget(userId, at)?.tokensRemaining ?? 0) };
    },

    async read(userId): Promise<BudgetSnapshot | null> {
      assertId("userId", userId);
      const at = now();
      tick(at);
      const budget = liveBudget(userId, at);
      if (!budget) return null;
      return { tokensRemaining: Math.max(0, budget.tokensRemaining), resetsAt: new Date(budget.periodEndMs) };
    },

    async forget(userId): Promise<void> {
      assertId("userId", userId);
      const at = now();
      budgets.delete(userId);
      for (const key of reservations.keys()) if (key.startsWith(`${userId}\u0000`)) reservations.delete(key);
      saveBudgets(at);
    },
  };
}

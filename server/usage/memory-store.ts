// The in-process budget store, the embedded default for a single server: the same semantics as the Upstash
// store (expiry at the period end, reservations that expire and stay charged, a per-period reset marker, credit
// packs spent after the period's budget, oldest first).
// Each operation runs synchronously inside one call, so operations never interleave. Given a file, the budgets
// outlive the process (see budget-file).
import {
  type BudgetSnapshot,
  type BudgetStore,
  type GrantPackResult,
  type PackSnapshot,
  type RaiseCapResult,
  type RevokePackResult,
  type ReserveResult,
  type ResetResult,
  type SettleResult,
} from "./budget-store";
import {
  DEFAULT_RESERVATION_TTL_MS,
  REVOKED_PACK_MEMORY_MS,
  assertId,
  assertPackId,
  assertPeriodEnd,
  assertReservationTtl,
  assertTokenCount,
} from "./budget-input";
import { openBudgetFile, type PersistedBudget, type PersistedPack } from "./budget-file";

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
  /** The part taken from the period's budget; the rest came from packs (`fromPacks`, in the order taken). */
  fromPeriod: number;
  fromPacks: Array<[packId: string, tokens: number]>;
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
  const stored = budgetFile?.load(now()) ?? { budgets: new Map<string, Budget>(), packs: new Map<string, Map<string, PersistedPack>>() };
  const { budgets, packs } = stored;
  const saveBudgets = (at: number) => budgetFile?.save(stored, at);
  const reservations = new Map<string, Reservation>();
  let operations = 0;

  // Expired entries are dropped lazily, like Redis keys; the periodic sweep only bounds memory.
  function tick(at: number): void {
    operations += 1;
    if (operations % SWEEP_EVERY_OPERATIONS !== 0) return;
    for (const [userId, budget] of budgets) if (at >= budget.periodEndMs) budgets.delete(userId);
    for (const [key, reservation] of reservations) if (at >= reservation.expiresAtMs) reservations.delete(key);
    for (const [userId, userPacks] of packs) {
      for (const [packId, pack] of userPacks) if (at >= pack.expiresAtMs) userPacks.delete(packId);
      if (userPacks.size === 0) packs.delete(userId);
    }
  }

  /** The packs that can be spent (not revoked, not expired, tokens left), oldest first. */
  function livePacks(userId: string, at: number): Array<[string, PersistedPack]> {
    const userPacks = packs.get(userId);
    if (!userPacks) return [];
    return [...userPacks]
      .filter(([, pack]) => !pack.revoked && pack.expiresAtMs > at && pack.tokensRemaining > 0)
      .sort(([a, x], [b, y]) => x.expiresAtMs - y.expiresAtMs || (a < b ? -1 : a > b ? 1 : 0));
  }
  const packTotal = (userId: string, at: number) => livePacks(userId, at).reduce((sum, [, pack]) => sum + pack.tokensRemaining, 0);

  /** Takes up to `tokens` from the live packs, oldest first; returns what it took from each. */
  function takeFromPacks(userId: string, tokens: number, at: number): Array<[string, number]> {
    const taken: Array<[string, number]> = [];
    let want = tokens;
    for (const [packId, pack] of livePacks(userId, at)) {
      if (want <= 0) break;
      const take = Math.min(want, pack.tokensRemaining);
      pack.tokensRemaining -= take;
      want -= take;
      taken.push([packId, take]);
    }
    return taken;
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
        return { ok: true, granted: existing.granted, tokensRemaining: Math.max(0, budget?.tokensRemaining ?? 0), packTokens: packTotal(userId, at) };
      }
      if (!budget) return { ok: false, tokensRemaining: 0, resetsAt: null };
      const period = Math.max(0, budget.tokensRemaining);
      if (period + packTotal(userId, at) <= 0) {
        return { ok: false, tokensRemaining: 0, resetsAt: new Date(budget.periodEndMs) };
      }
      const fromPeriod = Math.min(upperBound, period);
      budget.tokensRemaining = period - fromPeriod;
      const fromPacks = takeFromPacks(userId, upperBound - fromPeriod, at);
      const granted = fromPeriod + fromPacks.reduce((sum, [, tokens]) => sum + tokens, 0);
      reservations.set(key, {
        granted,
        fromPeriod,
        fromPacks,
        periodEndMs: budget.periodEndMs,
        settled: false,
        expiresAtMs: at + reservationTtlMs,
      });
      saveBudgets(at);
      return { ok: true, granted, tokensRemaining: budget.tokensRemaining, packTokens: packTotal(userId, at) };
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
      // Tokens move back only where they came from: the period that reserved them, the packs still live.
      const samePeriod = budget !== undefined && budget.periodEndMs === reservation.periodEndMs;
      let refund = reservation.granted - actualTokens;
      if (refund > 0) {
        const userPacks = packs.get(userId);
        for (const [packId, taken] of [...reservation.fromPacks].reverse()) {
          const pack = userPacks?.get(packId);
          if (refund <= 0 || !pack || pack.revoked || pack.expiresAtMs <= at) continue;
          const back = Math.min(refund, taken);
          pack.tokensRemaining += back;
          refund -= back;
        }
        if (samePeriod && refund > 0) budget.tokensRemaining = Math.max(0, budget.tokensRemaining) + Math.min(refund, reservation.fromPeriod);
      } else if (refund < 0 && samePeriod) {
        // The answer cost more than was held: the period's budget first, then the packs, never below zero.
        const extra = -refund;
        const period = Math.max(0, budget.tokensRemaining);
        const fromPeriod = Math.min(extra, period);
        budget.tokensRemaining = period - fromPeriod;
        takeFromPacks(userId, extra - fromPeriod, at);
      }
      saveBudgets(at);
      return { applied: true, tokensRemaining: Math.max(0, budget?.tokensRemaining ?? 0) };
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

    async grantPack(userId, packId, tokens, expiresAt): Promise<GrantPackResult> {
      assertId("userId", userId);
      assertPackId(packId);
      assertTokenCount("tokens", tokens);
      assertPeriodEnd(expiresAt);
      const at = now();
      tick(at);
      let userPacks = packs.get(userId);
      if (userPacks?.has(packId)) return { applied: false, packTokens: packTotal(userId, at) };
      if (!userPacks) packs.set(userId, (userPacks = new Map()));
      userPacks.set(packId, { tokensRemaining: tokens, expiresAtMs: expiresAt.getTime(), revoked: false });
      saveBudgets(at);
      return { applied: true, packTokens: packTotal(userId, at) };
    },

    async revokePack(userId, packId): Promise<RevokePackResult> {
      assertId("userId", userId);
      assertPackId(packId);
      const at = now();
      tick(at);
      let userPacks = packs.get(userId);
      const pack = userPacks?.get(packId);
      if (pack?.revoked) return { applied: false, tokensRemoved: 0, packTokens: packTotal(userId, at) };
      const tokensRemoved = pack && pack.expiresAtMs > at ? pack.tokensRemaining : 0;
      if (!userPacks) packs.set(userId, (userPacks = new Map()));
      userPacks.set(packId, { tokensRemaining: 0, expiresAtMs: pack?.expiresAtMs ?? at + REVOKED_PACK_MEMORY_MS, revoked: true });
      saveBudgets(at);
      return { applied: true, tokensRemoved, packTokens: packTotal(userId, at) };
    },

    async readPacks(userId): Promise<PackSnapshot[]> {
      assertId("userId", userId);
      const at = now();
      tick(at);
      return livePacks(userId, at).map(([packId, pack]) => ({ packId, tokensRemaining: pack.tokensRemaining, expiresAt: new Date(pack.expiresAtMs) }));
    },

    async forget(userId): Promise<void> {
      assertId("userId", userId);
      const at = now();
      budgets.delete(userId);
      packs.delete(userId);
      for (const key of reservations.keys()) if (key.startsWith(`${userId}\u0000`)) reservations.delete(key);
      saveBudgets(at);
    },
  };
}

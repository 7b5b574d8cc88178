// The in-process overage ledger, beside the in-process budget store (single server only). Each operation runs
// synchronously inside one call, so parallel answers never interleave between the check against the cap and the hold.
// Kept in memory: a restart forgets holds and the period's count (the charged tokens are already in the meter
// outbox, in Postgres); a deployment that must survive restarts uses Upstash.
import { DEFAULT_RESERVATION_TTL_MS, assertReservationTtl } from "./budget-input";
import { checkedOverageStore, overageKey, overageReservationKey, type OverageReserveResult, type OverageSettleResult, type OverageStore } from "./overage-store";

export interface MemoryOverageStoreOptions {
  now?: () => number;
  reservationTtlMs?: number;
}

interface Hold {
  granted: number;
  periodKey: string;
  charged: number | null;
  expiresAtMs: number;
}

export function createMemoryOverageStore(options: MemoryOverageStoreOptions = {}): OverageStore {
  const now = options.now ?? Date.now;
  const reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  assertReservationTtl(reservationTtlMs);
  const periods = new Map<string, { used: number; expiresAtMs: number }>();
  const holds = new Map<string, Hold>();

  let operations = 0;
  // Expired entries are dropped lazily, like Redis keys; this sweep only bounds memory.
  const sweep = (at: number) => {
    if (++operations % 512 !== 0) return;
    for (const [key, hold] of holds) if (hold.expiresAtMs <= at) holds.delete(key);
    for (const [key, period] of periods) if (period.expiresAtMs <= at) periods.delete(key);
  };

  const usedIn = (key: string, at: number): number => {
    const period = periods.get(key);
    if (period && period.expiresAtMs > at) return period.used;
    periods.delete(key);
    return 0;
  };

  return checkedOverageStore({
    async reserve(userId, requestId, upperBound, capTokens, periodEnd): Promise<OverageReserveResult> {
      const at = now();
      sweep(at);
      const key = overageKey(userId, periodEnd.getTime());
      const holdKey = overageReservationKey(userId, requestId);
      const existing = holds.get(holdKey);
      if (existing && existing.expiresAtMs > at) return { ok: true, granted: existing.granted, overageUsed: usedIn(existing.periodKey, at) };
      const used = usedIn(key, at);
      const granted = Math.min(upperBound, capTokens - used);
      if (granted <= 0 || periodEnd.getTime() <= at) return { ok: false, overageUsed: used };
      periods.set(key, { used: used + granted, expiresAtMs: periodEnd.getTime() });
      holds.set(holdKey, { granted, periodKey: key, charged: null, expiresAtMs: at + reservationTtlMs });
      return { ok: true, granted, overageUsed: used + granted };
    },

    async settle(userId, requestId, periodEnd, actualTokens): Promise<OverageSettleResult> {
      const at = now();
      const hold = holds.get(overageReservationKey(userId, requestId));
      if (!hold || hold.expiresAtMs <= at) return { applied: false, tokensCharged: 0 };
      if (hold.charged !== null) return { applied: false, tokensCharged: hold.charged };
      const charged = Math.min(actualTokens, hold.granted);
      hold.charged = charged;
      const period = periods.get(hold.periodKey);
      if (period && period.expiresAtMs > at) period.used -= hold.granted - charged;
      return { applied: true, tokensCharged: charged };
    },

    async read(userId, periodEnd): Promise<number> {
      return usedIn(overageKey(userId, periodEnd.getTime()), now());
    },
  });
}

// The overage ledger's contract (BILLING_OVERAGE=1): tokens a user spends past their budget and packs in one billing
// period, held and charged atomically so the period's total never exceeds the cap in force at each reserve, however
// many answers run at once. It sits beside the budget store, in the same backend (Upstash Redis or in-process), and
// follows its rules: idempotent per request id, a second settle is a no-op, the period's count expires at its end.

import { assertId, assertPeriodEnd, assertTokenCount } from "./budget-input";

/** Redis key of a user's overage tokens (held + charged) for the period ending at `periodEndMs`. */
export const overageKey = (userId: string, periodEndMs: number) => `chatbot-overage:${userId}:${periodEndMs}`;
export const overageReservationKey = (userId: string, requestId: string) => `chatbot-overage:${userId}:request:${requestId}`;

export type OverageReserveResult =
  | {
      ok: true;
      /** Tokens held for this request: min(upperBound, cap - used). */
      granted: number;
      /** Overage tokens held or charged this period, this hold included. */
      overageUsed: number;
    }
  | {
      ok: false;
      /** The cap is reached (or is 0): nothing was held. */
      overageUsed: number;
    };

export interface OverageSettleResult {
  /** False when the request was already settled, never reserved, or its reservation expired: nothing changed. */
  applied: boolean;
  /**
   * Overage tokens this request is billed for: min(actual, granted), never more than was held, so the cap holds
   * even when an answer overruns. On a repeated settle, the amount the first settle charged.
   */
  tokensCharged: number;
}

export interface OverageStore {
  /**
   * Holds up to `upperBound` overage tokens for one request in the period ending `periodEnd`, so that the period's
   * held + charged tokens never exceed `capTokens`. Idempotent per requestId: a retry returns the first grant.
   */
  reserve(userId: string, requestId: string, upperBound: number, capTokens: number, periodEnd: Date): Promise<OverageReserveResult>;
  /** Charges min(actualTokens, granted) and frees the rest of the hold; once per request. */
  settle(userId: string, requestId: string, periodEnd: Date, actualTokens: number): Promise<OverageSettleResult>;
  /** Overage tokens held or charged in the period ending `periodEnd` (0 when none). */
  read(userId: string, periodEnd: Date): Promise<number>;
}

/** `store` with every argument checked first, the same for each backend (a bad one throws before anything runs). */
export function checkedOverageStore(store: OverageStore): OverageStore {
  return {
    async reserve(userId, requestId, upperBound, capTokens, periodEnd) {
      assertId("userId", userId);
      assertId("requestId", requestId);
      assertTokenCount("upperBound", upperBound);
      assertTokenCount("capTokens", capTokens);
      assertPeriodEnd(periodEnd);
      return store.reserve(userId, requestId, upperBound, capTokens, periodEnd);
    },
    async settle(userId, requestId, periodEnd, actualTokens) {
      assertId("userId", userId);
      assertId("requestId", requestId);
      assertPeriodEnd(periodEnd);
      assertTokenCount("actualTokens", actualTokens);
      return store.settle(userId, requestId, periodEnd, actualTokens);
    },
    async read(userId, periodEnd) {
      assertId("userId", userId);
      assertPeriodEnd(periodEnd);
      return store.read(userId, periodEnd);
    },
  };
}

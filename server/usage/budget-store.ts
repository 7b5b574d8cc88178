// The token budget's contract: the remaining tokens of a user's current billing period, plus the credit packs they
// bought, changed only through atomic operations. Every store (Upstash Redis, in-process) implements exactly these
// semantics.
import { AppError } from "@/server/errors";

/** Redis key holding a user's remaining tokens for the current period, as an integer string. */
export const budgetKey = (userId: string) => `chatbot-usage:${userId}`;

export type ReserveResult =
  | {
      ok: true;
      /** Tokens held for this request: min(upperBound, remaining). The caller caps the model to it. */
      granted: number;
      /** Remaining after the hold. */
      tokensRemaining: number;
      /** Tokens left in live credit packs after the hold (they are spent once the period's budget is used up). */
      packTokens?: number;
    }
  | {
      ok: false;
      /** Always 0 here: a refusal means nothing is left. */
      tokensRemaining: number;
      /** When the budget key expires (the period end), or null when the user has no budget at all. */
      resetsAt: Date | null;
    };

export interface SettleResult {
  /** False when this request was already settled (or its reservation expired): nothing changed. */
  applied: boolean;
  tokensRemaining: number;
}

export interface ResetResult {
  /** False when this period (or a later one) was already reset: a redelivered or stale event. */
  applied: boolean;
  tokensRemaining: number;
}

export interface RaiseCapResult {
  /** True when remaining rose: the cap is higher than every cap this period's budget was granted under. */
  applied: boolean;
  tokensRemaining: number;
}

/** A credit pack as the store holds it: what is left of it and when that expires. */
export interface PackSnapshot {
  packId: string;
  tokensRemaining: number;
  expiresAt: Date;
}

export interface GrantPackResult {
  /** False when this pack was already granted (or revoked) before: a replayed event or a second success page. */
  applied: boolean;
  /** Tokens left in all live packs afterwards. */
  packTokens: number;
}

export interface RevokePackResult {
  /** False when the pack was already revoked. A revoke before the grant still records it, so the grant never applies. */
  applied: boolean;
  /** What was left of the pack and is now gone. */
  tokensRemoved: number;
  packTokens: number;
}

export interface BudgetSnapshot {
  tokensRemaining: number;
  resetsAt: Date | null;
}

export interface BudgetStore {
  /**
   * Holds up to `upperBound` tokens for one request before the model runs: from the period's budget first, then from
   * the live packs, oldest first. Refused when nothing is left in either, or when there is no period budget at all.
   * Idempotent per requestId: a retried reserve returns the first grant and holds nothing more.
   */
  reserve(userId: string, requestId: string, upperBound: number): Promise<ReserveResult>;
  /**
   * Charges the real usage: refunds `granted - actualTokens` (to the packs it came from first, then to the period's
   * budget), or charges the extra (period first, then packs), never below zero. A second settle of the same request
   * is a no-op.
   */
  settle(userId: string, requestId: string, actualTokens: number): Promise<SettleResult>;
  /**
   * Starts a period: remaining = budget (also recorded as the period's cap, see raiseCap), expiring at periodEnd.
   * A repeated reset for the same period, or a reset for an older period than the one already applied, is a no-op.
   */
  reset(userId: string, budget: number, periodEnd: Date): Promise<ResetResult>;
  /**
   * Puts back a budget that was lost while the record of its period survived (Redis lost or evicted only the budget
   * key): when the user has no budget and the period marker says exactly this period was reset (so it was paid
   * for), remaining = `budget` (the plan's full budget), expiring at periodEnd. Anything else is a no-op: a budget
   * that exists, no marker (nothing proves the period was paid: billing must decide), another period's marker.
   */
  restore(userId: string, budget: number, periodEnd: Date): Promise<ResetResult>;
  /**
   * A plan change mid-period (an upgrade): the budget was granted under a smaller cap, so remaining rises by
   * `cap - recordedCap`, and `cap` becomes the recorded cap. The recorded cap is the highest granted this period
   * (reset and restore record theirs), so a cap at or below it changes nothing: a downgrade never lowers remaining,
   * and a repeated or reordered call raises at most once per cap. Only the period `periodEnd` names is raised; no
   * budget, or another period's, is a no-op (the refill for that period decides). `unrecordedCap` is assumed as the
   * recorded cap for a budget granted before caps were recorded (default: `cap`, that is no raise).
   */
  raiseCap(userId: string, cap: number, periodEnd: Date, options?: { unrecordedCap?: number }): Promise<RaiseCapResult>;
  /** The current budget, or null when the user has none (never reset, or the period ended). */
  read(userId: string): Promise<BudgetSnapshot | null>;
  /**
   * Adds a bought credit pack: `tokens` spent after the period's budget, oldest pack first, until `expiresAt`.
   * Once per `packId` ever (the id of the payment): a replay, a second success page or a grant after a revoke is a
   * no-op. Packs outlive periods; they are spent only while a period's budget exists (a plan is active).
   */
  grantPack(userId: string, packId: string, tokens: number, expiresAt: Date): Promise<GrantPackResult>;
  /** Removes what is left of a pack (its payment was refunded); recorded even before the grant arrives. */
  revokePack(userId: string, packId: string): Promise<RevokePackResult>;
  /** The live packs (not expired, tokens left), oldest first. */
  readPacks(userId: string): Promise<PackSnapshot[]>;
  /**
   * Deletes everything held for the user (account deletion): the budget, its period marker, its cap, the packs and
   * every reservation. Afterwards the user reads as never reset. Idempotent.
   */
  forget(userId: string): Promise<void>;
}

/**
 * The store could not be reached or answered wrongly; callers fail closed (503), never grant tokens.
 * `what` names the operation that failed (shown to the user); the store's own error stays in `cause` (logged).
 */
export class BudgetStoreUnavailableError extends AppError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(
      "SERVICE_UNAVAILABLE",
      `Chat is unavailable right now because the token budget cannot be checked (${what}). Please try again shortly.`,
      options,
    );
    this.name = "BudgetStoreUnavailableError";
  }
}

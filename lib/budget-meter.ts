// How the token budget meter reads: the share of the current plan's cap that is left, and whether that is low.
// Measured against the cap of the plan the user has now, so a budget raised by an upgrade reads as the share of the
// new plan it is, and one above the cap (a bigger plan's budget kept until the period ends) reads as full.

/** At or below this share of the cap left, the meter warns. */
export const LOW_BUDGET_SHARE = 0.2;

export interface BudgetMeterReading {
  /** 0..100: the bar's width. */
  percentLeft: number;
  tone: "ok" | "low";
}

export function readBudgetMeter(tokensRemaining: number, tokenBudget: number): BudgetMeterReading {
  if (!Number.isFinite(tokensRemaining) || !Number.isFinite(tokenBudget)) {
    throw new RangeError(`the budget meter needs finite token counts, got ${tokensRemaining} of ${tokenBudget}`);
  }
  const share = tokenBudget > 0 ? Math.min(1, Math.max(0, tokensRemaining / tokenBudget)) : 0;
  return { percentLeft: share * 100, tone: share > LOW_BUDGET_SHARE ? "ok" : "low" };
}

/**
 * Whether chat has nothing left to spend: the period's budget is used up and no credit pack has tokens left (packs
 * are spent after the budget). An unknown pack count (null: not read yet, or unreadable) counts as none, as the
 * server's next refusal would say anyway.
 */
export function chatTokensExhausted(tokensRemaining: number | null, packTokens: number | null | undefined): boolean {
  return tokensRemaining === 0 && !(packTokens && packTokens > 0);
}

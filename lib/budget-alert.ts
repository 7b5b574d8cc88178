// The chat's budget alerts, from what the page already has (the budget query, each answer's finish metadata, the
// last refusal): 80 % of the period's tokens used, all of them used, answers counted as overage (with overage on:
// what is used under the cap), and the overage cap reached. Plain data, so the page and its tests read it alike.
import { LOW_BUDGET_SHARE } from "./budget-meter";

export interface OverageReading {
  usedTokens: number;
  capTokens: number;
}

export type BudgetAlert =
  | { level: "budget-80"; percentUsed: number }
  | { level: "budget-100" }
  | { level: "overage"; overage: OverageReading }
  | { level: "overage-cap"; overage: OverageReading };

/**
 * `refused`: the server's last answer was a 429. With a cap set, overage funds every answer the budget and packs
 * cannot, so a 429 means the cap (what is left under it is too little for this conversation), even a few tokens short
 * of it. `packTokens`: credit packs left, spent before overage.
 */
export function readBudgetAlert(
  tokensRemaining: number,
  tokenBudget: number,
  overage: OverageReading | null,
  { refused = false, packTokens = 0 }: { refused?: boolean; packTokens?: number } = {},
): BudgetAlert | null {
  if (tokenBudget <= 0) return null;
  if (overage && overage.capTokens > 0) {
    if (overage.usedTokens >= overage.capTokens || refused) return { level: "overage-cap", overage };
    // The budget's last tokens may be too few for a long conversation: answers then count as overage already.
    if (overage.usedTokens > 0 || (tokensRemaining <= 0 && packTokens <= 0)) return { level: "overage", overage };
  }
  if (tokensRemaining <= 0) return { level: "budget-100" };
  const shareLeft = tokensRemaining / tokenBudget;
  if (shareLeft <= LOW_BUDGET_SHARE) return { level: "budget-80", percentUsed: Math.floor((1 - shareLeft) * 100) };
  return null;
}

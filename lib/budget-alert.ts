// The chat's budget alerts, from what the page already has (the budget query and each answer's finish metadata):
// 80 % of the period's tokens used, all of them used (with overage on: answers now count as overage, up to the
// cap), and the overage cap reached. Plain data, so the page and its tests read it alike.
import { LOW_BUDGET_SHARE } from "./budget-meter";

export interface OverageReading {
  usedTokens: number;
  capTokens: number;
}

export type BudgetAlert =
  | { level: "budget-80"; percentUsed: number }
  | { level: "budget-100"; overage: OverageReading | null }
  | { level: "overage-cap"; overage: OverageReading };

export function readBudgetAlert(tokensRemaining: number, tokenBudget: number, overage: OverageReading | null): BudgetAlert | null {
  if (tokenBudget <= 0) return null;
  if (tokensRemaining <= 0) {
    if (overage && overage.capTokens > 0 && overage.usedTokens >= overage.capTokens) return { level: "overage-cap", overage };
    return { level: "budget-100", overage: overage && overage.capTokens > 0 ? overage : null };
  }
  const shareLeft = tokensRemaining / tokenBudget;
  if (shareLeft <= LOW_BUDGET_SHARE) return { level: "budget-80", percentUsed: Math.floor((1 - shareLeft) * 100) };
  return null;
}

import { readBudgetMeter } from "@/lib/budget-meter";
import { formatDate, formatTokens } from "@/lib/format";

/**
 * Remaining tokens of the period as a bar of the current plan's cap, with the reset date, and beside it what is left
 * in credit packs (spent once the period's budget is used up; they do not reset).
 */
export function BudgetMeter({
  tokenBudget,
  tokensRemaining,
  resetsAt,
  packTokens,
}: {
  tokenBudget: number;
  tokensRemaining: number;
  resetsAt: Date | string | null;
  packTokens?: number | null;
}) {
  const { percentLeft, tone } = readBudgetMeter(tokensRemaining, tokenBudget);
  return (
    <div data-testid="budget-meter" data-tone={tone}>
      <div className="flex items-baseline justify-between text-sm">
        <span className="font-medium">
          <span data-testid="tokens-remaining">{formatTokens(tokensRemaining)}</span> of{" "}
          <span data-testid="token-budget">{formatTokens(tokenBudget)}</span> tokens left
        </span>
        {resetsAt ? <span className="text-stone-500">Resets on {formatDate(resetsAt)}</span> : null}
      </div>
      <div
        className="mt-2 h-2 w-full overflow-hidden rounded-full bg-stone-200"
        role="meter"
        aria-label="Chat tokens left"
        aria-valuemin={0}
        aria-valuemax={tokenBudget}
        aria-valuenow={tokensRemaining}
      >
        <div
          className={`h-full rounded-full ${tone === "ok" ? "bg-brand-500" : "bg-red-500"}`}
          style={{ width: `${percentLeft}%` }}
        />
      </div>
      {packTokens ? (
        <p className="mt-2 text-sm text-stone-700" data-testid="pack-tokens-line">
          + <span data-testid="pack-tokens">{formatTokens(packTokens)}</span> tokens in credit packs, used after this period&apos;s budget
        </p>
      ) : null}
    </div>
  );
}

import { formatDate, formatTokens } from "@/lib/format";

/** Remaining tokens of the period as a bar, with the reset date. */
export function BudgetMeter({
  tokenBudget,
  tokensRemaining,
  resetsAt,
}: {
  tokenBudget: number;
  tokensRemaining: number;
  resetsAt: Date | string | null;
}) {
  const percent = tokenBudget > 0 ? Math.max(0, Math.min(100, (tokensRemaining / tokenBudget) * 100)) : 0;
  return (
    <div data-testid="budget-meter">
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
          className={`h-full rounded-full ${percent > 20 ? "bg-brand-500" : "bg-red-500"}`}
          style={{ width: `${percent}%` }}
        />
      </div>
    </div>
  );
}

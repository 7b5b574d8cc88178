import Link from "next/link";
import type { BudgetAlert } from "@/lib/budget-alert";
import { formatTokens } from "@/lib/format";

/** The chat meter's alert: 80% of the tokens used, all of them, answers counted as overage, the overage cap reached. */
export function BudgetAlertNotice({ alert }: { alert: BudgetAlert | null }) {
  if (!alert) return null;
  const tone = alert.level === "budget-80" ? "border-amber-300 bg-amber-50 text-amber-900" : "border-red-200 bg-red-50 text-red-900";
  return (
    <p role="status" data-testid="budget-alert" data-level={alert.level} className={`mt-3 rounded-lg border px-3 py-2 text-sm ${tone}`}>
      {alert.level === "budget-80" ? (
        <>You have used {alert.percentUsed}% of this period&apos;s tokens.</>
      ) : alert.level === "overage" ? (
        <>
          Answers now count as overage, billed on your next invoice: {formatTokens(alert.overage.usedTokens)} of{" "}
          {formatTokens(alert.overage.capTokens)} tokens used under <Link href="/account#overage" className="font-medium underline">your cap</Link>.
        </>
      ) : alert.level === "budget-100" ? (
        <>You have used all of this period&apos;s tokens.</>
      ) : (
        <>
          You have reached your overage cap ({formatTokens(alert.overage.capTokens)} tokens).{" "}
          <Link href="/account#overage" className="font-medium underline">Raise the cap</Link> to keep chatting this period.
        </>
      )}
    </p>
  );
}

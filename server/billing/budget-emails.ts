// Budget alerts: when a settled chat leaves a user at or past 80% (or 100%) of this period's tokens, one email says
// so, with the reset date and an upgrade link. The outbox key names the user, threshold and period, so each alert
// goes out at most once per period however many requests cross it; users can turn them off in /account.
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { findUserById } from "@/db/queries/users";
import { env } from "@/lib/env";
import { kickEmailDelivery } from "@/server/mail/deliverer";
import { enqueueEmail } from "@/server/mail/outbox";
import type { BudgetStore } from "@/server/usage";
import { budgetPeriodAt, currentPlan, hasActivePlan } from "./entitlement";

export const BUDGET_ALERT_THRESHOLDS = [100, 80] as const;

/** Enqueues the highest budget alert `tokensRemaining` has reached this period, if not sent yet. Returns its threshold. */
export async function enqueueBudgetAlert(
  userId: string,
  tokensRemaining: number,
  deps: { db?: Db; now?: Date } = {},
): Promise<80 | 100 | null> {
  const db = deps.db ?? (await getDb());
  const user = await findUserById(db, userId);
  if (!user || !user.budgetEmails || !hasActivePlan(user, deps.now) || !user.stripeCurrentPeriodEnd) return null;
  // The budget period's own budget and end: a trial's, or a yearly plan's current month (alerts once a month).
  const period = budgetPeriodAt(user, deps.now);
  const { tokenBudget } = period;
  if (tokenBudget <= 0 || currentPlan(user, deps.now).tokenBudget <= 0) return null;
  const used = tokenBudget - tokensRemaining;
  const threshold = BUDGET_ALERT_THRESHOLDS.find((percent) => used * 100 >= tokenBudget * percent);
  if (!threshold) return null;
  const periodEnd = period.endsAt ?? user.stripeCurrentPeriodEnd;
  const added = await enqueueEmail(db, {
    key: `budget-${threshold}:${user.id}:${Math.floor(periodEnd.getTime() / 1000)}`,
    userId: user.id,
    to: user.email,
    template: "budget-alert",
    props: {
      percentUsed: threshold,
      tokenBudget,
      resetsAt: periodEnd.toISOString(),
      upgradeUrl: new URL("/pricing", env.APP_URL).toString(),
      settingsUrl: new URL("/account#email-preferences", env.APP_URL).toString(),
    },
  });
  if (added) kickEmailDelivery();
  return added ? threshold : null;
}

/**
 * The budget store with alerts: after a settle that charged something, checks the thresholds in the background.
 * A failure there is logged and never touches the chat or the budget.
 */
export function withBudgetAlerts(store: BudgetStore, alert: typeof enqueueBudgetAlert = enqueueBudgetAlert): BudgetStore {
  return {
    ...store,
    async settle(userId, requestId, actualTokens) {
      const result = await store.settle(userId, requestId, actualTokens);
      if (result.applied) {
        alert(userId, result.tokensRemaining).catch((error: unknown) => console.error(`[mail] budget alert check failed for ${userId}`, error));
      }
      return result;
    },
  };
}

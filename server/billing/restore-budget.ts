// Re-derives a user's missing token budget from Stripe: the sync refills only a period whose first or renewal
// invoice is paid, and the store's per-period marker keeps a budget that exists from being refilled. The sync is
// told the budget is missing, since the user's row may record this period's refill as done.
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { findUserById } from "@/db/queries/users";
import { syncSubscriptionFromStripe, type SyncDeps } from "./sync-subscription";

export async function restoreBudgetFromStripe(userId: string, partial: Partial<SyncDeps> & { db?: Db } = {}): Promise<void> {
  const user = await findUserById(partial.db ?? (await getDb()), userId);
  if (user?.stripeCustomerId) await syncSubscriptionFromStripe(user.stripeCustomerId, partial, { budgetMissing: true });
}

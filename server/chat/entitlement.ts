// What the chat needs from billing: the user's entitlement, and a way to restore a missing budget.
// Billing owns both answers; the chat only reads them.
import { findUserById } from "@/db/queries/users";
import { getDb } from "@/db/index";
import { syncSubscriptionFromStripe } from "@/server/billing/sync-subscription";

export { getChatEntitlement, type ChatEntitlement } from "@/server/billing/entitlement";

/** Re-syncs the user's subscription from Stripe, which refills the budget only if the period was paid for. */
export async function restoreBudgetFromStripe(userId: string): Promise<void> {
  const user = await findUserById(await getDb(), userId);
  if (user?.stripeCustomerId) await syncSubscriptionFromStripe(user.stripeCustomerId);
}

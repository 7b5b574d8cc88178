// What the chat needs from billing and auth: the user's entitlement (only for a confirmed email address), and a way
// to restore a missing budget. Billing and auth own the answers; the chat only reads them.
import { getChatEntitlement as getPlanEntitlement, type ChatEntitlement } from "@/server/billing/entitlement";
import { requireVerifiedEmail } from "@/server/auth/email-verification";

export type { ChatEntitlement };
export { restoreBudgetFromStripe } from "@/server/billing/restore-budget";
export { withBudgetAlerts } from "@/server/billing/budget-emails";

/** The plan's chat entitlement; throws FORBIDDEN (mapped to 403 by the route) until the user confirms their email. */
export async function getChatEntitlement(userId: string): Promise<ChatEntitlement> {
  await requireVerifiedEmail(userId);
  return getPlanEntitlement(userId);
}

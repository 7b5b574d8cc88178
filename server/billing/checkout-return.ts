// The checkout success page's own sync, so the user sees the plan at once even when the webhook is late.
// Only the caller's own Checkout Session is honoured.
import { findUserById } from "@/db/queries/users";
import { resolveSyncDeps, syncSubscriptionFromStripe, type SyncDeps, type SyncResult } from "./sync-subscription";

export async function syncAfterCheckout(
  userId: string,
  sessionId: string,
  partial: Partial<SyncDeps> = {},
): Promise<SyncResult | null> {
  if (!/^cs_[A-Za-z0-9_]+$/.test(sessionId)) return null;
  const deps = await resolveSyncDeps(partial);
  const user = await findUserById(deps.db, userId);
  if (!user?.stripeCustomerId) return null;
  const session = await deps.stripe.checkout.sessions.retrieve(sessionId);
  const customerId = typeof session.customer === "string" ? session.customer : session.customer?.id;
  if (customerId !== user.stripeCustomerId || session.client_reference_id !== userId) return null;
  return syncSubscriptionFromStripe(customerId, deps);
}

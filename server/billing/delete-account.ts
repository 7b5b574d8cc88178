// Account deletion: first stop billing in Stripe (expire every open Checkout Session, so none can start a
// subscription afterwards, then cancel every live subscription immediately), then delete the user and everything
// hanging off it in one transaction. If Stripe cannot be reached nothing is deleted, so no deleted user keeps
// being billed.
import { deleteUser } from "@/db/queries/billing";
import { findUserById } from "@/db/queries/users";
import { AppError } from "@/server/errors";
import { resolveBillingDeps, type BillingDeps } from "./customers";

export async function deleteAccount(userId: string, partial: Partial<BillingDeps> = {}): Promise<void> {
  const { db, stripe } = await resolveBillingDeps(partial);
  const user = await findUserById(db, userId);
  if (!user) throw new AppError("NOT_FOUND", "That account no longer exists.");

  if (user.stripeCustomerId) {
    for await (const session of stripe.checkout.sessions.list({ customer: user.stripeCustomerId, status: "open", limit: 100 })) {
      await stripe.checkout.sessions.expire(session.id);
    }
    for await (const sub of stripe.subscriptions.list({ customer: user.stripeCustomerId, status: "all", limit: 100 })) {
      if (sub.status !== "canceled" && sub.status !== "incomplete_expired") {
        await stripe.subscriptions.cancel(sub.id);
      }
    }
  }
  await db.transaction((tx) => deleteUser(tx, userId));
}

// Account deletion: first stop billing (cancel every live subscription immediately, in Stripe), then delete
// the user and everything hanging off it in one transaction. If Stripe cannot be reached nothing is deleted,
// so no deleted user keeps being billed.
import { deleteUser } from "@/db/queries/billing";
import { findUserById } from "@/db/queries/users";
import { AppError } from "@/server/errors";
import { resolveBillingDeps, type BillingDeps } from "./customers";

export async function deleteAccount(userId: string, partial: Partial<BillingDeps> = {}): Promise<void> {
  const { db, stripe } = await resolveBillingDeps(partial);
  const user = await findUserById(db, userId);
  if (!user) throw new AppError("NOT_FOUND", "That account no longer exists.");

  if (user.stripeCustomerId) {
    for await (const sub of stripe.subscriptions.list({ customer: user.stripeCustomerId, status: "all", limit: 100 })) {
      if (sub.status !== "canceled" && sub.status !== "incomplete_expired") {
        await stripe.subscriptions.cancel(sub.id);
      }
    }
  }
  await db.transaction((tx) => deleteUser(tx, userId));
}

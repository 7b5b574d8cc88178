// Account deletion, complete: first stop billing in Stripe (expire every open Checkout Session, so none can start
// a subscription afterwards; send the user's overage meter events still in the outbox; then cancel every live
// subscription immediately with a final invoice for what was not billed yet: the overage so far and any pending
// prorations, less the unused time of the paid period) and remove the Stripe customer (deleted, or with
// STRIPE_KEEP_DELETED_CUSTOMERS=1 kept for the founder's accounting but scrubbed of email, name, address and phone;
// a customer that still owes money, such as a final invoice its card declined, is always kept that way, so the
// invoice stays collectable). Then, in one transaction, delete the user and everything hanging off it and detach
// the recorded Stripe events from the customer. Last, the budget store forgets the user. Every Stripe call is
// made before the transaction opens, so no row lock waits on the network. If Stripe cannot be reached nothing
// is deleted, so no deleted user keeps being billed. The user's sessions end with the row: every request checks
// the session's user (server/auth/session-version.ts).
import type Stripe from "stripe";
import { deleteUser, detachStripeEvents } from "@/db/queries/billing";
import { claimTrial } from "@/db/queries/trial-claims";
import { findUserById } from "@/db/queries/users";
import { env } from "@/lib/env";
import { AppError } from "@/server/errors";
import { log } from "@/server/ops/log";
import { getBudgetStore, type BudgetStore } from "@/server/usage";
import { resolveBillingDeps, type BillingDeps } from "./customers";
import { sendUserMeterEvents } from "./meter-events";

export interface DeleteAccountDeps extends BillingDeps {
  store: BudgetStore;
  /** Keep the Stripe customer, scrubbed, instead of deleting it (STRIPE_KEEP_DELETED_CUSTOMERS). */
  keepStripeCustomer: boolean;
}

export async function deleteAccount(userId: string, partial: Partial<DeleteAccountDeps> = {}): Promise<void> {
  const { db, stripe } = await resolveBillingDeps(partial);
  const user = await findUserById(db, userId);
  if (!user) throw new AppError("NOT_FOUND", "That account no longer exists.");

  const customerId = user.stripeCustomerId;
  let subscribed = false;
  if (customerId) {
    for await (const session of stripe.checkout.sessions.list({ customer: customerId, status: "open", limit: 100 })) {
      await stripe.checkout.sessions.expire(session.id);
    }
    // Overage already used must reach Stripe before the final invoice is made, else it is never billed.
    const usage = await sendUserMeterEvents(userId, { db, stripe });
    if (usage.retrying > 0) {
      throw new AppError("SERVICE_UNAVAILABLE", "Your latest usage could not be reported to Stripe, so nothing was deleted. Please try again in a minute.");
    }
    for await (const sub of stripe.subscriptions.list({ customer: customerId, status: "all", limit: 100 })) {
      subscribed = true;
      if (sub.status !== "canceled" && sub.status !== "incomplete_expired") {
        // Without both flags Stripe discards the period's metered usage and any pending proration.
        await stripe.subscriptions.cancel(sub.id, { invoice_now: true, prorate: true });
      }
    }
    const owed = await amountOwed(stripe, customerId);
    if (owed > 0) log.warn({ userId, customerId, owedCents: owed }, "account deleted; its Stripe customer is kept, scrubbed, because it still owes money");
    await removeStripeCustomer(stripe, customerId, owed > 0 || (partial.keepStripeCustomer ?? env.STRIPE_KEEP_DELETED_CUSTOMERS));
  }

  await db.transaction(async (tx) => {
    // An address that ever subscribed gets no trial in a new account (only its hash is kept).
    if (subscribed) await claimTrial(tx, user.email);
    await deleteUser(tx, userId);
    if (customerId) await detachStripeEvents(tx, customerId);
  });
  // An event of this customer claimed by a webhook transaction still open during ours (the cancellation's own
  // events) commits afterwards: detach once more. A narrower window, not a closed one (see the report/README).
  if (customerId) await detachStripeEvents(db, customerId);

  // The budget lives outside the database: its keys would otherwise stay until the period ends. The account is
  // already gone, so a store outage here is logged, not reported as a failed deletion.
  try {
    await (partial.store ?? getBudgetStore()).forget(userId);
  } catch (error) {
    console.error(`account ${userId} deleted, but its budget keys could not be removed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * What the customer still owes: open invoices not yet paid (a final invoice whose card was declined, a renewal in
 * dunning) and drafts still to be finalized and charged (Stripe may hold a final invoice for its usage grace period).
 */
async function amountOwed(stripe: Stripe, customerId: string): Promise<number> {
  let owed = 0;
  for (const status of ["open", "draft"] as const) {
    for await (const invoice of stripe.invoices.list({ customer: customerId, status, limit: 100 })) {
      owed += status === "open" ? invoice.amount_remaining : Math.max(0, invoice.amount_due);
    }
  }
  return owed;
}

async function removeStripeCustomer(stripe: Stripe, customerId: string, keep: boolean): Promise<void> {
  try {
    if (keep) {
      await stripe.customers.update(customerId, { email: "", name: "", phone: "", address: "" });
    } else {
      await stripe.customers.del(customerId);
    }
  } catch (error) {
    // Already deleted (a retried deletion): nothing left to remove.
    if ((error as { code?: string }).code === "resource_missing") return;
    throw error;
  }
}

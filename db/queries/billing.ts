// The billing side of the users table and the processed-event log. Callers pass the executor, so the event
// record and the state it causes are written in one transaction.
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { stripeEvents, users, type User } from "../schema";

export type SubscriptionState = Pick<
  User,
  | "stripeSubscriptionId"
  | "stripePriceId"
  | "stripeCurrentPeriodEnd"
  | "planActive"
  | "planExpires"
  | "planId"
  | "subscriptionStatus"
  | "cancelAt"
>;

/** Links a Stripe customer to a user unless one is already linked; returns the id the user ends up with. */
export async function linkStripeCustomer(db: Executor, userId: string, customerId: string): Promise<string | null> {
  const [updated] = await db
    .update(users)
    .set({ stripeCustomerId: customerId })
    .where(and(eq(users.id, userId), isNull(users.stripeCustomerId)))
    .returning({ stripeCustomerId: users.stripeCustomerId });
  if (updated) return updated.stripeCustomerId;
  const [current] = await db.select({ stripeCustomerId: users.stripeCustomerId }).from(users).where(eq(users.id, userId));
  return current?.stripeCustomerId ?? null;
}

/** The user owning a Stripe customer, locked until the transaction ends so syncs of one customer run in turn. */
export async function lockUserByStripeCustomer(tx: Executor, customerId: string): Promise<User | null> {
  const [row] = await tx.select().from(users).where(eq(users.stripeCustomerId, customerId)).for("update");
  return row ?? null;
}

/** Writes a synced subscription state, and the period a refill was asked for when this sync asked for one. */
export async function writeSubscriptionState(
  tx: Executor,
  userId: string,
  state: SubscriptionState,
  budgetRefilledFor?: Date,
): Promise<void> {
  await tx
    .update(users)
    .set(budgetRefilledFor ? { ...state, budgetRefilledFor } : state)
    .where(eq(users.id, userId));
}

export async function listUsersWithStripeCustomer(db: Executor): Promise<Array<{ id: string; stripeCustomerId: string }>> {
  const rows = await db
    .select({ id: users.id, stripeCustomerId: users.stripeCustomerId })
    .from(users)
    .where(isNotNull(users.stripeCustomerId));
  return rows.flatMap((row) => (row.stripeCustomerId ? [{ id: row.id, stripeCustomerId: row.stripeCustomerId }] : []));
}

/**
 * Claims an event for processing inside the caller's transaction. False when it was already processed; a
 * concurrent delivery of the same event waits here until the first commits (then false) or rolls back.
 */
export async function claimStripeEvent(
  tx: Executor,
  event: { id: string; type: string; customerId: string | null },
): Promise<boolean> {
  const inserted = await tx
    .insert(stripeEvents)
    .values({
      id: event.id,
      type: event.type,
      // Only while a user has this customer: the late events of a deleted account (the cancellations it caused)
      // must not name its customer again after deletion detached the rest.
      customerId: event.customerId
        ? sql`(select ${users.stripeCustomerId} from ${users} where ${users.stripeCustomerId} = ${event.customerId})`
        : null,
      processedAt: new Date(),
    })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  return inserted.length > 0;
}

/** Account deletion: the recorded events keep their ids and types but no longer name the customer. */
export async function detachStripeEvents(tx: Executor, customerId: string): Promise<void> {
  await tx.update(stripeEvents).set({ customerId: null }).where(eq(stripeEvents.customerId, customerId));
}

export async function deleteUser(tx: Executor, userId: string): Promise<void> {
  await tx.delete(users).where(eq(users.id, userId));
}

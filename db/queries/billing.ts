// The billing side of the users table and the processed-event log. Callers pass the executor, so the event
// record and the state it causes are written in one transaction.
import { and, eq, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { duplicateSubscriptions, stripeEvents, users, type DuplicateSubscriptionRow, type User } from "../schema";

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
  | "billingInterval"
  | "billingAnchor"
  | "trialEndsAt"
  | "stripeOverageLookupKey"
>;

/** A plan change scheduled for the period end, as the sync read it: both null when none is scheduled. */
export type ScheduledPlanChange = Pick<User, "scheduledPlanId" | "scheduledPlanAt">;

/** An unpaid invoice the subscription is past due on, as the sync read it: both null when nothing is owed. */
export type PaymentDue = Pick<User, "pastDueSince" | "openInvoiceUrl">;
export const nothingDue: PaymentDue = { pastDueSince: null, openInvoiceUrl: null };

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

/** A stamp for a Stripe read about to start: higher than every stamp handed out before, in any process. */
export async function nextStripeReadStamp(db: Executor): Promise<number> {
  const [row] = await db
    .select({ stamp: sql<string>`nextval('stripe_read_stamps')`.mapWith(Number) })
    .from(sql`(values (1)) as one`);
  if (!row) throw new Error("nextval('stripe_read_stamps') returned no row");
  return row.stamp;
}

/** The user owning a Stripe customer (no lock), or null. */
export async function findUserByStripeCustomer(db: Executor, customerId: string): Promise<User | null> {
  const [row] = await db.select().from(users).where(eq(users.stripeCustomerId, customerId)).limit(1);
  return row ?? null;
}

/**
 * Writes a synced subscription state (with the plan change it has scheduled and the payment it is past due on) read
 * from Stripe under `readStamp`, unless the row already holds a read with a stamp as high or higher. The single
 * UPDATE holds the row lock only for itself. Returns whether it wrote.
 */
export async function writeSubscriptionStateIfNewer(
  tx: Executor,
  userId: string,
  state: SubscriptionState,
  readStamp: number,
  scheduled: ScheduledPlanChange = { scheduledPlanId: null, scheduledPlanAt: null },
  due: PaymentDue = nothingDue,
): Promise<boolean> {
  const written = await tx
    .update(users)
    .set({ ...state, ...scheduled, ...due, stripeReadStamp: readStamp })
    .where(and(eq(users.id, userId), or(isNull(users.stripeReadStamp), lt(users.stripeReadStamp, readStamp))))
    .returning({ id: users.id });
  return written.length > 0;
}

/** Records the period the budget store was asked to refill (never moving back to an older period). */
export async function recordBudgetRefill(tx: Executor, userId: string, periodEnd: Date): Promise<void> {
  await tx
    .update(users)
    .set({ budgetRefilledFor: periodEnd })
    .where(and(eq(users.id, userId), or(isNull(users.budgetRefilledFor), lt(users.budgetRefilledFor, periodEnd))));
}

/**
 * Moves the test clock time of these customers' users forward to `frozenTime`, never back (clock events may arrive in
 * any order). Returns how many users it moved.
 */
export async function advanceTestClockTime(db: Executor, customerIds: readonly string[], frozenTime: Date): Promise<number> {
  if (customerIds.length === 0) return 0;
  const moved = await db
    .update(users)
    .set({ stripeTestClockTime: frozenTime })
    .where(
      and(
        inArray(users.stripeCustomerId, [...customerIds]),
        or(isNull(users.stripeTestClockTime), lt(users.stripeTestClockTime, frozenTime)),
      ),
    )
    .returning({ id: users.id });
  return moved.length;
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

/** Whether an event was already applied: lets a redelivery stop before Stripe is read (the claim still decides). */
export async function isStripeEventRecorded(db: Executor, eventId: string): Promise<boolean> {
  const [row] = await db.select({ id: stripeEvents.id }).from(stripeEvents).where(eq(stripeEvents.id, eventId)).limit(1);
  return row !== undefined;
}

/** Account deletion: the recorded events keep their ids and types but no longer name the customer. */
export async function detachStripeEvents(tx: Executor, customerId: string): Promise<void> {
  await tx.update(stripeEvents).set({ customerId: null }).where(eq(stripeEvents.customerId, customerId));
}

export async function deleteUser(tx: Executor, userId: string): Promise<void> {
  await tx.delete(users).where(eq(users.id, userId));
}

/** Records subscriptions retired as duplicates (a row per subscription; a repeated record is a no-op). */
export async function recordDuplicateSubscriptions(
  tx: Executor,
  rows: Array<Pick<DuplicateSubscriptionRow, "subscriptionId" | "userId" | "customerId" | "keptSubscriptionId" | "refundedCents" | "reason">>,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.insert(duplicateSubscriptions).values(rows).onConflictDoNothing({ target: duplicateSubscriptions.subscriptionId });
}

export async function listDuplicateSubscriptions(db: Executor, userId: string): Promise<DuplicateSubscriptionRow[]> {
  return db.select().from(duplicateSubscriptions).where(eq(duplicateSubscriptions.userId, userId)).orderBy(duplicateSubscriptions.createdAt);
}

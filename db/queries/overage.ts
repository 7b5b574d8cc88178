// Metered overage: the user's monthly cap and the meter-event outbox. Inserts are keyed by the chat request id, so a
// repeated settle cannot add an event twice; claims lease rows so two deliverers never send the same one at once.
import { and, asc, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { meterEventOutbox, users, type MeterEventOutboxRow } from "../schema";

export async function setOverageCap(db: Executor, userId: string, capCents: number): Promise<void> {
  await db.update(users).set({ overageCapCents: capCents }).where(eq(users.id, userId));
}

export interface MeterEventEntry {
  /** The chat request id, also the meter event's identifier. */
  id: string;
  userId: string;
  stripeCustomerId: string;
  eventName: string;
  tokens: number;
  occurredAt: Date;
}

/** Adds a meter event unless one with the same id exists; true when this call added it. */
export async function insertMeterEvent(db: Executor, entry: MeterEventEntry): Promise<boolean> {
  const inserted = await db.insert(meterEventOutbox).values(entry).onConflictDoNothing({ target: meterEventOutbox.id }).returning({ id: meterEventOutbox.id });
  return inserted.length > 0;
}

/** Takes up to `limit` due events: moves each one's next attempt to `leaseUntil` and counts the attempt, in one statement. */
export async function claimDueMeterEvents(db: Executor, now: Date, leaseUntil: Date, limit: number): Promise<MeterEventOutboxRow[]> {
  const due = db
    .select({ id: meterEventOutbox.id })
    .from(meterEventOutbox)
    .where(and(isNull(meterEventOutbox.sentAt), isNull(meterEventOutbox.failedAt), lte(meterEventOutbox.nextAttemptAt, now)))
    .orderBy(asc(meterEventOutbox.nextAttemptAt))
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(meterEventOutbox)
    .set({ nextAttemptAt: leaseUntil, attempts: sql`${meterEventOutbox.attempts} + 1` })
    .where(inArray(meterEventOutbox.id, due))
    .returning();
}

export async function markMeterEventSent(db: Executor, id: string, at: Date): Promise<void> {
  await db.update(meterEventOutbox).set({ sentAt: at, lastError: null }).where(eq(meterEventOutbox.id, id));
}

export async function markMeterEventRetry(db: Executor, id: string, nextAttemptAt: Date, error: string): Promise<void> {
  await db.update(meterEventOutbox).set({ nextAttemptAt, lastError: error.slice(0, 1000) }).where(eq(meterEventOutbox.id, id));
}

export async function markMeterEventFailed(db: Executor, id: string, at: Date, error: string): Promise<void> {
  await db.update(meterEventOutbox).set({ failedAt: at, lastError: error.slice(0, 1000) }).where(eq(meterEventOutbox.id, id));
}

/** The user's events Stripe has not accepted yet (nor refused for good), oldest first, whatever their next attempt. */
export async function listUnsentMeterEvents(db: Executor, userId: string): Promise<MeterEventOutboxRow[]> {
  return db
    .select()
    .from(meterEventOutbox)
    .where(and(eq(meterEventOutbox.userId, userId), isNull(meterEventOutbox.sentAt), isNull(meterEventOutbox.failedAt)))
    .orderBy(asc(meterEventOutbox.createdAt));
}

export async function listMeterEvents(db: Executor, userId: string): Promise<MeterEventOutboxRow[]> {
  return db.select().from(meterEventOutbox).where(eq(meterEventOutbox.userId, userId)).orderBy(asc(meterEventOutbox.createdAt));
}

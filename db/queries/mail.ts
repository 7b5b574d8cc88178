// The email outbox and the single-use auth tokens. Enqueue and token writes take the caller's executor, so they
// commit (or roll back) with the state that caused them.
import { and, asc, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { authTokens, emailOutbox, users, type EmailOutboxRow } from "../schema";

export interface OutboxEntry {
  key: string;
  userId: string | null;
  toAddress: string;
  template: string;
  props: Record<string, unknown>;
}

/** Adds an email unless one with the same key exists; true when this call added it. */
export async function insertOutboxEmail(db: Executor, entry: OutboxEntry): Promise<boolean> {
  const inserted = await db
    .insert(emailOutbox)
    .values(entry)
    .onConflictDoNothing({ target: emailOutbox.key })
    .returning({ id: emailOutbox.id });
  return inserted.length > 0;
}

/**
 * Takes up to `limit` due emails for delivery: moves each one's next attempt to `leaseUntil` and counts the
 * attempt, in one statement, so two deliverers never take the same row and a crashed one's rows come back.
 */
export async function claimDueEmails(db: Executor, now: Date, leaseUntil: Date, limit: number): Promise<EmailOutboxRow[]> {
  const due = db
    .select({ id: emailOutbox.id })
    .from(emailOutbox)
    .where(and(isNull(emailOutbox.sentAt), isNull(emailOutbox.failedAt), lte(emailOutbox.nextAttemptAt, now)))
    .orderBy(asc(emailOutbox.nextAttemptAt))
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(emailOutbox)
    .set({ nextAttemptAt: leaseUntil, attempts: sql`${emailOutbox.attempts} + 1` })
    .where(inArray(emailOutbox.id, due))
    .returning();
}

export async function markEmailSent(db: Executor, id: string, at: Date): Promise<void> {
  await db.update(emailOutbox).set({ sentAt: at, lastError: null }).where(eq(emailOutbox.id, id));
}

export async function markEmailRetry(db: Executor, id: string, nextAttemptAt: Date, error: string): Promise<void> {
  await db.update(emailOutbox).set({ nextAttemptAt, lastError: error.slice(0, 1000) }).where(eq(emailOutbox.id, id));
}

export async function markEmailFailed(db: Executor, id: string, at: Date, error: string): Promise<void> {
  await db.update(emailOutbox).set({ failedAt: at, lastError: error.slice(0, 1000) }).where(eq(emailOutbox.id, id));
}

export async function listOutboxEmails(db: Executor, userId?: string): Promise<EmailOutboxRow[]> {
  const query = db.select().from(emailOutbox);
  return userId ? query.where(eq(emailOutbox.userId, userId)).orderBy(asc(emailOutbox.createdAt)) : query.orderBy(asc(emailOutbox.createdAt));
}

// ---- single-use tokens --------------------------------------------------------------------------------------

export type AuthTokenPurpose = (typeof authTokens.$inferSelect)["purpose"];

export async function insertAuthToken(
  db: Executor,
  values: { tokenHash: string; purpose: AuthTokenPurpose; userId: string; expiresAt: Date },
): Promise<void> {
  await db.insert(authTokens).values(values);
}

/** Uses a token: deletes and returns its row, so of two concurrent uses only one gets it. */
export async function consumeAuthToken(
  db: Executor,
  tokenHash: string,
  purpose: AuthTokenPurpose,
): Promise<{ userId: string; expiresAt: Date } | null> {
  const [row] = await db
    .delete(authTokens)
    .where(and(eq(authTokens.tokenHash, tokenHash), eq(authTokens.purpose, purpose)))
    .returning({ userId: authTokens.userId, expiresAt: authTokens.expiresAt });
  return row ?? null;
}

export async function deleteAuthTokens(db: Executor, userId: string, purpose: AuthTokenPurpose): Promise<void> {
  await db.delete(authTokens).where(and(eq(authTokens.userId, userId), eq(authTokens.purpose, purpose)));
}

/** When the user's newest token of this purpose was created (for throttling resends), or null. */
export async function latestAuthTokenAt(db: Executor, userId: string, purpose: AuthTokenPurpose): Promise<Date | null> {
  const [row] = await db
    .select({ createdAt: authTokens.createdAt })
    .from(authTokens)
    .where(and(eq(authTokens.userId, userId), eq(authTokens.purpose, purpose)))
    .orderBy(sql`${authTokens.createdAt} desc`)
    .limit(1);
  return row?.createdAt ?? null;
}

export async function markEmailVerified(db: Executor, userId: string, at: Date): Promise<void> {
  await db.update(users).set({ emailVerified: at }).where(and(eq(users.id, userId), isNull(users.emailVerified)));
}

export async function setBudgetEmails(db: Executor, userId: string, enabled: boolean): Promise<void> {
  await db.update(users).set({ budgetEmails: enabled }).where(eq(users.id, userId));
}

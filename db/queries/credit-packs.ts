// Bought credit packs, one row per paid pack payment. Written only by server/billing/credit-packs, which re-reads the
// payment from Stripe first: a row records a purchase once (its PaymentIntent is the key), whatever the number of
// webhooks and success pages that report it.
import { desc, eq, isNull, and } from "drizzle-orm";
import type { Executor } from "../client";
import { creditPacks, type CreditPackRow } from "../schema";

export type NewCreditPack = Omit<CreditPackRow, "grantedAt" | "refundedAt">;

/** Records a purchase, or finds the one already recorded for the payment: the stored row (its expiry stays the first one). */
export async function recordCreditPack(db: Executor, pack: NewCreditPack): Promise<CreditPackRow> {
  await db.insert(creditPacks).values(pack).onConflictDoNothing({ target: creditPacks.paymentIntentId });
  const [row] = await db.select().from(creditPacks).where(eq(creditPacks.paymentIntentId, pack.paymentIntentId)).limit(1);
  if (!row) throw new Error(`credit pack ${pack.paymentIntentId} vanished after its insert (the account was deleted meanwhile?)`);
  return row;
}

/** Notes that the budget store holds the pack's tokens (the first time only). */
export async function markCreditPackGranted(db: Executor, paymentIntentId: string, at: Date): Promise<void> {
  await db
    .update(creditPacks)
    .set({ grantedAt: at })
    .where(and(eq(creditPacks.paymentIntentId, paymentIntentId), isNull(creditPacks.grantedAt)));
}

/** Marks a pack refunded (the first time only); its unspent tokens are revoked from the store afterwards. */
export async function markCreditPackRefunded(db: Executor, paymentIntentId: string, at: Date): Promise<void> {
  await db
    .update(creditPacks)
    .set({ refundedAt: at })
    .where(and(eq(creditPacks.paymentIntentId, paymentIntentId), isNull(creditPacks.refundedAt)));
}

export async function findCreditPack(db: Executor, paymentIntentId: string): Promise<CreditPackRow | null> {
  const [row] = await db.select().from(creditPacks).where(eq(creditPacks.paymentIntentId, paymentIntentId)).limit(1);
  return row ?? null;
}

/** The user's purchases, newest first (the account and /usage list them beside what the store says is left). */
export async function listCreditPacks(db: Executor, userId: string): Promise<CreditPackRow[]> {
  return db.select().from(creditPacks).where(eq(creditPacks.userId, userId)).orderBy(desc(creditPacks.purchasedAt));
}

// Credit packs: extra chat tokens bought once through Checkout in `payment` mode. A pack is granted exactly once
// whichever reports the payment first (the checkout.session.completed webhook or the success page) and however often:
// every report re-reads the payment from Stripe, records the purchase in Postgres keyed by its PaymentIntent (the
// first record wins, with its expiry), and only then asks the budget store, whose grantPack is once per PaymentIntent
// ever. A refunded payment (charge.refunded) or a disputed one (charge.dispute.created, a chargeback) re-reads the same
// way and revokes what is left of the pack; the store records a revoke that comes before the grant, so the grant then
// never applies. Stripe is read with no database
// connection held; the store is written after the row is committed, and a store that is down fails the call (the
// webhook is retried, the success page says so).
import type Stripe from "stripe";
import { z } from "zod";
import { findUserByStripeCustomer } from "@/db/queries/billing";
import { listCreditPacks, markCreditPackGranted, markCreditPackRefunded, recordCreditPack } from "@/db/queries/credit-packs";
import { findUserById } from "@/db/queries/users";
import type { CreditPackRow } from "@/db/schema";
import { AppError } from "@/server/errors";
import { log } from "@/server/ops/log";
import { tracedBudgetStore } from "@/server/ops/budget-spans";
import { getBudgetStore, type BudgetStore, type PackSnapshot } from "@/server/usage";
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { currentPlan, hasActivePlan } from "./entitlement";
import { ensureStripeCustomer, resolveBillingDeps, type BillingDeps } from "./customers";
import { creditPackExpiry, creditPackIds, creditPacks, findCreditPack } from "./plans";
import { requirePriceId } from "./stripe-catalog";

/** `{ pack }`, both optional: the plans table's first pack unless another is named. */
export const buyCreditsInput = z
  .object({ pack: z.enum(creditPackIds, { error: `Choose one of the credit packs: ${creditPackIds.join(", ")}.` }).default(creditPackIds[0]) })
  .strict()
  .default({ pack: creditPackIds[0] });

export interface CreditPackDeps extends BillingDeps {
  budget: Pick<BudgetStore, "grantPack" | "revokePack">;
  /** When a newly recorded pack counts as bought (its expiry runs from here). */
  now: () => Date;
}

export async function resolveCreditPackDeps(partial: Partial<CreditPackDeps> = {}): Promise<CreditPackDeps> {
  return {
    ...(await resolveBillingDeps(partial)),
    budget: partial.budget ?? tracedBudgetStore(getBudgetStore()),
    now: partial.now ?? (() => new Date()),
  };
}

/**
 * A hosted Checkout page that sells one pack. Only to a subscriber whose plan is active: packs are spent only while
 * a period's budget exists, so a free user would pay for tokens they could not use.
 */
export async function buyCredits(userId: string, input: z.input<typeof buyCreditsInput>, partial: Partial<BillingDeps> = {}): Promise<{ url: string }> {
  const deps = await resolveBillingDeps(partial);
  const pack = creditPacks[buyCreditsInput.parse(input).pack];
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError("NOT_FOUND", "That account no longer exists.");
  if (!hasActivePlan(user) || currentPlan(user).tokenBudget === 0) {
    throw new AppError("FORBIDDEN", "Credit packs add to a plan's monthly tokens: subscribe to a plan first, then buy a pack.");
  }
  const customer = await ensureStripeCustomer(userId, deps);
  const price = await requirePriceId(deps.stripe, pack.lookupKey);
  const metadata = { userId, packId: pack.id };
  const session = await deps.stripe.checkout.sessions.create({
    mode: "payment",
    customer,
    line_items: [{ price, quantity: 1 }],
    client_reference_id: userId,
    // On the PaymentIntent too, so the payment reads as a pack in the dashboard and on its refund.
    payment_intent_data: { metadata },
    metadata,
    success_url: new URL("/chat?credits=success&session_id={CHECKOUT_SESSION_ID}", deps.appUrl).toString(),
    cancel_url: new URL("/chat?credits=canceled", deps.appUrl).toString(),
  });
  if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
  return { url: session.url };
}

export type CreditPackOutcome =
  | { outcome: "pack-granted"; userId: string; paymentIntentId: string; applied: boolean }
  | { outcome: "pack-refunded"; userId: string; paymentIntentId: string; tokensRemoved: number }
  /** Not a pack purchase (a subscription's Checkout, an invoice's charge), not paid yet, or for no user we know. */
  | { outcome: "not-a-pack" | "pack-unpaid" | "pack-unknown-customer"; sessionId: string | null };

/** The checkout success page's own grant, so the tokens are there at once even when the webhook is late. */
export async function syncCreditPackAfterCheckout(
  userId: string,
  sessionId: string,
  partial: Partial<CreditPackDeps> = {},
): Promise<CreditPackOutcome | null> {
  if (!/^cs_[A-Za-z0-9_]+$/.test(sessionId)) return null;
  const deps = await resolveCreditPackDeps(partial);
  const user = await findUserById(deps.db, userId);
  if (!user?.stripeCustomerId) return null;
  const session = await deps.stripe.checkout.sessions.retrieve(sessionId);
  // Only the caller's own session: a session id in someone else's link grants nothing to the wrong account.
  if (idOf(session.customer) !== user.stripeCustomerId || session.client_reference_id !== userId) return null;
  return applyCreditPackSession(session, deps);
}

/** A `checkout.session.completed` in payment mode: re-reads the session and grants its pack. */
export async function syncCreditPackSession(sessionId: string, partial: Partial<CreditPackDeps> = {}): Promise<CreditPackOutcome> {
  const deps = await resolveCreditPackDeps(partial);
  return applyCreditPackSession(await deps.stripe.checkout.sessions.retrieve(sessionId), deps);
}

/** A `charge.refunded` or `charge.dispute.created`: the pack its PaymentIntent bought, if any, is re-read and revoked. */
export async function syncCreditPackPayment(paymentIntentId: string | null, partial: Partial<CreditPackDeps> = {}): Promise<CreditPackOutcome> {
  if (!paymentIntentId) return { outcome: "not-a-pack", sessionId: null };
  const deps = await resolveCreditPackDeps(partial);
  const sessions = await deps.stripe.checkout.sessions.list({ payment_intent: paymentIntentId, limit: 1 });
  const session = sessions.data[0];
  return session ? applyCreditPackSession(session, deps) : { outcome: "not-a-pack", sessionId: null };
}

async function applyCreditPackSession(session: Stripe.Checkout.Session, deps: CreditPackDeps): Promise<CreditPackOutcome> {
  const pack = findCreditPack(session.metadata?.packId);
  const paymentIntentId = idOf(session.payment_intent);
  if (session.mode !== "payment" || !pack || !paymentIntentId) return { outcome: "not-a-pack", sessionId: session.id };
  if (session.payment_status !== "paid") return { outcome: "pack-unpaid", sessionId: session.id };
  const customerId = idOf(session.customer);
  const user = customerId ? await findUserByStripeCustomer(deps.db, customerId) : null;
  if (!user || session.metadata?.userId !== user.id) {
    log.warn({ sessionId: session.id, customerId }, "credit pack paid for a customer no user has (deleted account?)");
    return { outcome: "pack-unknown-customer", sessionId: session.id };
  }
  const refunded = await paymentTakenBack(deps.stripe, paymentIntentId);
  const purchasedAt = deps.now();
  const row = await recordCreditPack(deps.db, {
    paymentIntentId,
    checkoutSessionId: session.id,
    userId: user.id,
    packId: pack.id,
    tokens: pack.tokens,
    amountCents: session.amount_total ?? pack.amountCents,
    currency: session.currency ?? "usd",
    purchasedAt,
    expiresAt: creditPackExpiry(purchasedAt),
  });
  return refunded ? revoke(row, deps) : grant(row, deps);
}

async function grant(row: CreditPackRow, deps: CreditPackDeps): Promise<CreditPackOutcome> {
  // Granted before: the store's once-per-pack check catches a replay too, but not after the store lost its data (a
  // flushed Redis), when a revisited success page would hand out the whole pack again, spent or not.
  if (row.grantedAt) return { outcome: "pack-granted", userId: row.userId, paymentIntentId: row.paymentIntentId, applied: false };
  const result = await deps.budget.grantPack(row.userId, row.paymentIntentId, row.tokens, row.expiresAt);
  await markCreditPackGranted(deps.db, row.paymentIntentId, deps.now());
  return { outcome: "pack-granted", userId: row.userId, paymentIntentId: row.paymentIntentId, applied: result.applied };
}

async function revoke(row: CreditPackRow, deps: CreditPackDeps): Promise<CreditPackOutcome> {
  await markCreditPackRefunded(deps.db, row.paymentIntentId, deps.now());
  const result = await deps.budget.revokePack(row.userId, row.paymentIntentId);
  return { outcome: "pack-refunded", userId: row.userId, paymentIntentId: row.paymentIntentId, tokensRemoved: result.tokensRemoved };
}

/**
 * Whether the payment was taken back: any refund, even a partial one, or a dispute (the card network has already
 * returned the money, whatever the dispute's outcome later). Either takes back what is left of the pack, for good.
 */
async function paymentTakenBack(stripe: Stripe, paymentIntentId: string): Promise<boolean> {
  const intent = await stripe.paymentIntents.retrieve(paymentIntentId, { expand: ["latest_charge"] });
  const charge = intent.latest_charge;
  return typeof charge === "object" && charge !== null && (charge.amount_refunded > 0 || charge.disputed);
}

/** A bought pack as the account and /usage list it: what it was, and what is left of it now. */
export interface CreditPackPurchase {
  paymentIntentId: string;
  name: string;
  tokens: number;
  amountCents: number;
  purchasedAt: Date;
  expiresAt: Date;
  /** Null when the budget store cannot be read just now. */
  tokensLeft: number | null;
  status: "active" | "used" | "expired" | "refunded";
}

/** The user's purchases (Postgres), newest first, each with what the budget store has left of it. */
export async function listCreditPackPurchases(
  userId: string,
  deps: { db?: Db; budget?: Pick<BudgetStore, "readPacks">; now?: Date } = {},
): Promise<CreditPackPurchase[]> {
  const db = deps.db ?? (await getDb());
  const rows = await listCreditPacks(db, userId);
  if (rows.length === 0) return [];
  const live = await (deps.budget ?? getBudgetStore()).readPacks(userId).catch((error: unknown): PackSnapshot[] | null => {
    console.error(`could not read the credit packs of user ${userId}`, error);
    return null;
  });
  const now = deps.now ?? new Date();
  return rows.map((row) => {
    const left = live?.find((pack) => pack.packId === row.paymentIntentId)?.tokensRemaining ?? 0;
    const status = row.refundedAt ? "refunded" : row.expiresAt <= now ? "expired" : left > 0 || !live ? "active" : "used";
    return {
      paymentIntentId: row.paymentIntentId,
      name: findCreditPack(row.packId)?.name ?? `${row.tokens.toLocaleString("en-US")} tokens`,
      tokens: row.tokens,
      amountCents: row.amountCents,
      purchasedAt: row.purchasedAt,
      expiresAt: row.expiresAt,
      tokensLeft: live ? (status === "active" ? left : 0) : null,
      status,
    };
  });
}

const idOf = (value: string | { id: string } | null | undefined): string | null => (typeof value === "string" ? value : (value?.id ?? null));

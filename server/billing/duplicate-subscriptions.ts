// One live subscription per customer. Checkout expires a customer's other open sessions, but two sessions can
// still both be paid (two tabs completed before either webhook). The sync then keeps the older live subscription
// and retires every other: marks it, cancels it at once (no proration) and refunds its payments in full, then
// records the refund on it. Each step is idempotent and the marks live on the subscription in Stripe, so a sync
// that fails halfway is finished by the next one, in any process, whatever the event order.
import Stripe from "stripe";
import { activeSubscriptionStatuses } from "./plans";

/** Metadata on a retired subscription: the subscription kept instead of it. */
export const DUPLICATE_OF = "hourglass_duplicate_of";
/** Metadata on a retired subscription once its payments are refunded: the cents refunded. */
export const DUPLICATE_REFUNDED = "hourglass_refunded_cents";

const paidUpStatuses: ReadonlySet<string> = new Set(["active", "trialing", "past_due"]);

export const isLive = (sub: Stripe.Subscription) => activeSubscriptionStatuses.has(sub.status);

/**
 * The live subscription to keep: one that was paid for before one whose first payment is still pending, then the
 * older, then (created has one-second resolution) the smaller id, so every process picks the same one.
 */
export function keeperOf(subscriptions: readonly Stripe.Subscription[]): Stripe.Subscription | null {
  const candidates = subscriptions.filter((sub) => isLive(sub) && !sub.metadata?.[DUPLICATE_OF]);
  candidates.sort(
    (a, b) =>
      Number(!paidUpStatuses.has(a.status)) - Number(!paidUpStatuses.has(b.status)) ||
      a.created - b.created ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return candidates[0] ?? null;
}

/** Subscriptions still to retire: live ones beside the keeper, and marked ones whose refund is not recorded yet. */
export function duplicatesToRetire(subscriptions: readonly Stripe.Subscription[], keeper: Stripe.Subscription | null): Stripe.Subscription[] {
  return subscriptions.filter((sub) => {
    if (keeper && sub.id === keeper.id) return false;
    if (sub.metadata?.[DUPLICATE_OF]) return !sub.metadata[DUPLICATE_REFUNDED];
    return keeper !== null && isLive(sub);
  });
}

export interface RetiredDuplicate {
  subscriptionId: string;
  keptSubscriptionId: string;
  refundedCents: number;
  reason: string;
}

/** The retired duplicates a customer's subscription list shows (those whose refund is recorded on them). */
export function retiredDuplicates(subscriptions: readonly Stripe.Subscription[]): RetiredDuplicate[] {
  return subscriptions.flatMap((sub) => {
    const kept = sub.metadata?.[DUPLICATE_OF];
    const refunded = sub.metadata?.[DUPLICATE_REFUNDED];
    if (!kept || refunded === undefined) return [];
    return [{ subscriptionId: sub.id, keptSubscriptionId: kept, refundedCents: Number(refunded) || 0, reason: duplicateReason(kept) }];
  });
}

const duplicateReason = (keptId: string) =>
  `A second subscription went live while ${keptId} was already live (two Checkout pages were paid): ` +
  `it was canceled at once and its payment refunded in full.`;

const isRefundedAlready = (error: unknown) =>
  error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "charge_already_refunded";

/**
 * Retires one duplicate: marks it, cancels it now and refunds every paid payment of its invoices, then records the
 * refunded amount on it. Returns the refunded cents (this call's and earlier ones').
 */
export async function retireDuplicate(stripe: Stripe, sub: Stripe.Subscription, keeperId: string): Promise<RetiredDuplicate> {
  const keptId = sub.metadata?.[DUPLICATE_OF] ?? keeperId;
  const reason = duplicateReason(keptId);
  console.warn(`stripe: subscription ${sub.id} of customer ${String(sub.customer)} duplicates ${keptId}; canceling and refunding it`);
  if (!sub.metadata?.[DUPLICATE_OF]) {
    await stripe.subscriptions.update(sub.id, { metadata: { [DUPLICATE_OF]: keptId } }, { idempotencyKey: `hourglass-duplicate-mark:${sub.id}` });
  }
  if (sub.status !== "canceled" && sub.status !== "incomplete_expired") {
    const current = await stripe.subscriptions.retrieve(sub.id);
    if (current.status !== "canceled" && current.status !== "incomplete_expired") {
      await stripe.subscriptions.cancel(
        sub.id,
        { prorate: false, invoice_now: false, cancellation_details: { comment: reason } },
        { idempotencyKey: `hourglass-duplicate-cancel:${sub.id}` },
      );
    }
  }
  let refundedCents = 0;
  const invoices = await stripe.invoices.list({ subscription: sub.id, status: "paid", limit: 100 });
  for (const invoice of invoices.data) {
    const payments = await stripe.invoicePayments.list({ invoice: invoice.id, status: "paid", limit: 100 });
    for (const payment of payments.data) {
      const charge = idOf(payment.payment.charge);
      const paymentIntent = idOf(payment.payment.payment_intent);
      if (!charge && !paymentIntent) continue;
      try {
        const refund = await stripe.refunds.create(
          {
            ...(charge ? { charge } : { payment_intent: paymentIntent ?? undefined }),
            reason: "duplicate",
            metadata: { subscription: sub.id, kept_subscription: keptId, invoice: invoice.id },
          },
          { idempotencyKey: `hourglass-duplicate-refund:${payment.id}` },
        );
        refundedCents += refund.amount;
      } catch (error) {
        if (!isRefundedAlready(error)) throw error;
        refundedCents += payment.amount_paid ?? 0;
      }
    }
  }
  await stripe.subscriptions.update(
    sub.id,
    { metadata: { [DUPLICATE_REFUNDED]: String(refundedCents) } },
    { idempotencyKey: `hourglass-duplicate-refunded:${sub.id}` },
  );
  return { subscriptionId: sub.id, keptSubscriptionId: keptId, refundedCents, reason };
}

const idOf = (value: string | { id: string } | null | undefined) => (typeof value === "string" ? value : (value?.id ?? null));

// The single writer of a user's subscription state: re-reads the customer's subscriptions from Stripe and
// writes the six billing columns (plus status, plan and cancel date) from that truth, so any event, in any
// order and any number of times, converges. A paid first or renewal invoice for the current period refills
// the token budget; the budget store's per-period marker makes that happen once per period, and the period
// recorded on the user (budget_refilled_for) spares later events about that period the call to the store.
// Syncs of one customer run in turn under its row lock, so a burst of events about one customer (a checkout sends
// four) is read from Stripe about twice, not once per event: see recent-reads.
import type Stripe from "stripe";
import type { Executor } from "@/db/client";
import { lockUserByStripeCustomer, writeSubscriptionState, type SubscriptionState } from "@/db/queries/billing";
import { env } from "@/lib/env";
import { kickEmailDelivery } from "@/server/mail/deliverer";
import { getBudgetStore, type BudgetStore } from "@/server/usage";
import { enqueueBillingEmails } from "./billing-emails";
import { resolveBillingDeps, type BillingDeps } from "./customers";
import { activeSubscriptionStatuses, findPlanByLookupKey } from "./plans";
import { beginRead, hasCommittedReadSince } from "./recent-reads";

export interface SyncDeps extends BillingDeps {
  budget: Pick<BudgetStore, "reset">;
  graceSeconds: number;
}

export type SyncResult =
  | { outcome: "synced"; userId: string; state: SubscriptionState; budgetReset: boolean }
  | { outcome: "already-current"; userId: string }
  | { outcome: "unknown-customer"; customerId: string };

export interface SyncOptions {
  /**
   * When the caller learned that something changed (performance.now() on a webhook's arrival). If a committed
   * sync of this customer began reading Stripe after that, the state already includes the change and this sync
   * skips its read ("already-current").
   */
  changedBefore?: number;
  /**
   * The caller found no budget in the store (Redis lost its data, the budgets file was unreadable): ask the store
   * to refill even when this period's refill is recorded as done. The store's marker still keeps it once per period.
   */
  budgetMissing?: boolean;
}

export async function resolveSyncDeps(partial: Partial<SyncDeps> = {}): Promise<SyncDeps> {
  return {
    ...(await resolveBillingDeps(partial)),
    budget: partial.budget ?? getBudgetStore(),
    graceSeconds: partial.graceSeconds ?? env.BILLING_GRACE_SECONDS,
  };
}

/** Syncs one customer in its own transaction. Safe from webhooks, the checkout success page and resync. */
export async function syncSubscriptionFromStripe(
  customerId: string,
  partial: Partial<SyncDeps> = {},
  options: SyncOptions = {},
): Promise<SyncResult> {
  return withSyncTransaction(await resolveSyncDeps(partial), (_tx, sync) => sync(customerId, options));
}

export type BoundSync = (customerId: string, options?: SyncOptions) => Promise<SyncResult>;

/**
 * Runs `work` in one transaction with a sync bound to it (the webhook route records the event in the same one),
 * then tells the syncs queued behind it whether its reads count. The user row stays locked while Stripe is
 * read, so two syncs of one customer can't interleave and leave the older read written last.
 */
export async function withSyncTransaction<T>(deps: SyncDeps, work: (tx: Executor, sync: BoundSync) => Promise<T>): Promise<T> {
  const settles: Array<(committed: boolean) => void> = [];
  try {
    const value = await deps.db.transaction((tx) =>
      work(tx, (customerId, options = {}) => syncLocked(tx, customerId, deps, options, settles)),
    );
    for (const settle of settles) settle(true);
    kickEmailDelivery();
    return value;
  } catch (error) {
    for (const settle of settles) settle(false);
    throw error;
  }
}

async function syncLocked(
  tx: Executor,
  customerId: string,
  deps: SyncDeps,
  options: SyncOptions,
  settles: Array<(committed: boolean) => void>,
): Promise<SyncResult> {
  const user = await lockUserByStripeCustomer(tx, customerId);
  if (!user) return { outcome: "unknown-customer", customerId };
  if (options.changedBefore !== undefined && (await hasCommittedReadSince(customerId, options.changedBefore))) {
    return { outcome: "already-current", userId: user.id };
  }

  settles.push(beginRead(customerId));
  // The latest invoice comes along so a renewal or purchase usually needs no second call (see earnedBudget).
  const subscriptions = await deps.stripe.subscriptions.list({
    customer: customerId,
    status: "all",
    limit: 100,
    expand: ["data.latest_invoice"],
  });
  const current = pickCurrentSubscription(subscriptions.data);
  const state = current ? subscriptionState(current, deps.graceSeconds) : freeState;

  // A committed sync already asked the store to refill this period: the store would answer "already applied",
  // and asking costs a round trip while this transaction holds the user's row.
  const refilledAlready =
    !options.budgetMissing &&
    user.budgetRefilledFor !== null &&
    state.stripeCurrentPeriodEnd?.getTime() === user.budgetRefilledFor.getTime();
  const refill = current && state.planActive && !refilledAlready ? await earnedBudget(current, deps.stripe) : null;
  let budgetReset = false;
  if (refill) {
    // Inside the transaction on purpose: if the store is down the event fails, rolls back and is retried.
    const result = await deps.budget.reset(user.id, refill.tokenBudget, refill.periodEnd);
    budgetReset = result.applied;
  }
  await writeSubscriptionState(tx, user.id, state, refill?.periodEnd);
  // Billing emails commit with the state that causes them (the outbox; delivered after commit).
  await enqueueBillingEmails(tx, user, state, { subscription: current });
  return { outcome: "synced", userId: user.id, state, budgetReset };
}

const freeState: SubscriptionState = {
  stripeSubscriptionId: null,
  stripePriceId: null,
  stripeCurrentPeriodEnd: null,
  planActive: false,
  planExpires: null,
  planId: null,
  subscriptionStatus: null,
  cancelAt: null,
};

/** The subscription that decides access: the newest live one, else the newest of any status. */
export function pickCurrentSubscription(subscriptions: readonly Stripe.Subscription[]): Stripe.Subscription | null {
  const newestFirst = [...subscriptions].sort((a, b) => b.created - a.created);
  return newestFirst.find((sub) => activeSubscriptionStatuses.has(sub.status)) ?? newestFirst[0] ?? null;
}

const fromUnix = (seconds: number) => new Date(seconds * 1000);

export function subscriptionState(sub: Stripe.Subscription, graceSeconds: number): SubscriptionState {
  const item = sub.items.data[0];
  // Since the 2025 API versions the period lives on each subscription item, not on the subscription.
  const periodEnd = item ? item.current_period_end : null;
  const plan = findPlanByLookupKey(item?.price.lookup_key);
  // Flexible billing mode: a portal "cancel at period end" sets cancel_at and leaves cancel_at_period_end false.
  const cancelAtSeconds = sub.cancel_at ?? (sub.cancel_at_period_end ? periodEnd : null);
  const ended = sub.status === "canceled" || sub.status === "incomplete_expired";

  let planExpires: Date | null;
  if (ended) planExpires = fromUnix(sub.ended_at ?? sub.canceled_at ?? Math.floor(Date.now() / 1000));
  else if (cancelAtSeconds !== null) planExpires = fromUnix(cancelAtSeconds);
  else planExpires = periodEnd === null ? null : fromUnix(periodEnd + graceSeconds);

  return {
    stripeSubscriptionId: sub.id,
    stripePriceId: item?.price.id ?? null,
    stripeCurrentPeriodEnd: periodEnd === null ? null : fromUnix(periodEnd),
    planActive: !ended && activeSubscriptionStatuses.has(sub.status),
    planExpires,
    planId: plan?.id ?? null,
    subscriptionStatus: sub.status,
    cancelAt: cancelAtSeconds === null || ended ? null : fromUnix(cancelAtSeconds),
  };
}

const refillingReasons: ReadonlySet<Stripe.Invoice.BillingReason> = new Set(["subscription_create", "subscription_cycle"]);

/**
 * The budget the current period has earned: a paid first or renewal invoice covering the current period
 * refills; plan-change (proration) and unpaid invoices never do. Usually the expanded latest invoice decides;
 * when it is a plan change, recent invoices are looked at too, so a plan change made before the first
 * invoice's event arrived does not hide the purchase.
 */
async function earnedBudget(
  sub: Stripe.Subscription,
  stripe: Stripe,
): Promise<{ tokenBudget: number; periodEnd: Date } | null> {
  const item = sub.items.data[0];
  const plan = findPlanByLookupKey(item?.price.lookup_key);
  if (!item || !plan || plan.tokenBudget === 0) return null;
  const refills = (invoice: Stripe.Invoice) =>
    invoice.status === "paid" &&
    invoice.billing_reason !== null &&
    refillingReasons.has(invoice.billing_reason) &&
    invoice.lines.data.some((line) => line.period.end >= item.current_period_end);
  const earned = { tokenBudget: plan.tokenBudget, periodEnd: fromUnix(item.current_period_end) };

  const latest = typeof sub.latest_invoice === "object" ? sub.latest_invoice : null;
  if (latest && refills(latest)) return earned;
  // The newest first or renewal invoice is unpaid: this period has not been paid for.
  if (latest?.billing_reason && refillingReasons.has(latest.billing_reason)) return null;
  const invoices = await stripe.invoices.list({ subscription: sub.id, limit: 10 });
  return invoices.data.some(refills) ? earned : null;
}

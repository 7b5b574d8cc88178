// The single writer of a user's subscription state: re-reads the customer's subscriptions from Stripe and writes
// the billing columns from that truth, so any event, in any order and any number of times, converges. Stripe is
// read with no database connection or lock held; the write is one short transaction that applies only when its
// read's stamp (taken before the request went out) is higher than the stamp stored, so an older read never
// overwrites a newer one. A paid first or renewal invoice for the current period refills the token budget, on the
// same rule; the store's per-period marker keeps that once per period. A plan whose cap is higher than the one the
// period's budget was granted under (an upgrade) raises the budget by the difference; the store's recorded cap keeps
// that once per change, and a lower cap (a downgrade) never lowers it. A trialing subscription's budget is the trial's;
// a yearly one's is the current monthly window's (budget-window), later windows being started by the chat.
import { performance } from "node:perf_hooks";
import type Stripe from "stripe";
import type { Executor } from "@/db/client";
import {
  claimStripeEvent,
  findUserByStripeCustomer,
  nextStripeReadStamp,
  nothingDue,
  recordBudgetRefill,
  recordDuplicateSubscriptions,
  writeSubscriptionStateIfNewer,
  type PaymentDue,
  type ScheduledPlanChange,
  type SubscriptionState,
} from "@/db/queries/billing";
import type { User } from "@/db/schema";
import { claimTrial } from "@/db/queries/trial-claims";
import { env } from "@/lib/env";
import { kickEmailDelivery } from "@/server/mail/deliverer";
import { getBudgetStore, type BudgetStore } from "@/server/usage";
import { tracedBudgetStore } from "@/server/ops/budget-spans";
import { enqueueBillingEmails } from "./billing-emails";
import { resolveBillingDeps, type BillingDeps } from "./customers";
import { duplicatesToRetire, keeperOf, retireDuplicate, retiredDuplicates } from "./duplicate-subscriptions";
import { monthlyWindowAt, windowMoment } from "./budget-window";
import { licensedItem, meteredItem } from "./overage";
import { activeSubscriptionStatuses, budgetFor, findPlanByLookupKey, getPlan } from "./plans";
import { readOnce, type CustomerRead } from "./stripe-reads";
import { billingWork } from "./work-limit";

export interface SyncDeps extends BillingDeps {
  budget: Pick<BudgetStore, "reset" | "raiseCap">;
  graceSeconds: number;
  /** The clock the payment grace is measured on (tests move it past the grace), and a yearly plan's monthly window. */
  now: () => Date;
}

export type SyncResult =
  | { outcome: "synced"; userId: string; state: SubscriptionState; budgetReset: boolean }
  /** A read that began later is already written; it includes everything this sync was told about. */
  | { outcome: "already-current"; userId: string }
  | { outcome: "unknown-customer"; customerId: string }
  /** The webhook event this sync was to apply had already been applied (a concurrent delivery won the claim). */
  | { outcome: "duplicate-event"; customerId: string };

export interface StripeEventClaim {
  id: string;
  type: string;
  customerId: string | null;
}

export interface SyncOptions {
  /**
   * When the caller learned that something changed (performance.now() on a webhook's arrival; now by default).
   * Any read that began after that moment includes the change, so this sync may share one already in flight.
   */
  arrivedAt?: number;
  /**
   * The caller found no budget in the store (Redis lost its data, the budgets file was unreadable): ask the store
   * to refill even when this period's refill is recorded as done. The store's marker still keeps it once per period.
   */
  budgetMissing?: boolean;
  /** The webhook event this sync applies: recorded in the same transaction as the write, or "duplicate-event". */
  event?: StripeEventClaim;
}

export async function resolveSyncDeps(partial: Partial<SyncDeps> = {}): Promise<SyncDeps> {
  return {
    ...(await resolveBillingDeps(partial)),
    budget: partial.budget ?? tracedBudgetStore(getBudgetStore()),
    graceSeconds: partial.graceSeconds ?? env.BILLING_GRACE_SECONDS,
    now: partial.now ?? (() => new Date()),
  };
}

/** Syncs one customer. Safe from webhooks, the checkout success page, a budget restore and resync. */
export async function syncSubscriptionFromStripe(
  customerId: string,
  partial: Partial<SyncDeps> = {},
  options: SyncOptions = {},
): Promise<SyncResult> {
  const deps = await resolveSyncDeps(partial);
  const arrivedAt = options.arrivedAt ?? performance.now();
  const user = await billingWork.run(() => findUserByStripeCustomer(deps.db, customerId));
  if (!user) {
    if (options.event && !(await claimAlone(deps, options.event))) return { outcome: "duplicate-event", customerId };
    return { outcome: "unknown-customer", customerId };
  }

  // A restore must ask the store even if a shared read decided this period needs no refill: it reads on its own.
  const read = options.budgetMissing
    ? await readCustomer(customerId, user, deps, true)
    : await readOnce(deps.stripe, deps.budget, customerId, arrivedAt, () => readCustomer(customerId, user, deps, false));

  const result = await billingWork.run(() => writeRead(customerId, user, read, deps, options.event));
  if (result.outcome === "synced") kickEmailDelivery();
  return result;
}

async function writeRead(
  customerId: string,
  user: User,
  read: CustomerRead,
  deps: SyncDeps,
  event: StripeEventClaim | undefined,
): Promise<SyncResult> {
  return deps.db.transaction(async (tx) => {
    if (event && !(await claimStripeEvent(tx, event))) return { outcome: "duplicate-event", customerId } as const;
    const userId = user.id;
    // Recorded whatever the stamps say: a newer read no longer sees these subscriptions as live.
    await recordDuplicateSubscriptions(
      tx,
      (read.duplicates ?? []).map((d) => ({ ...d, userId, customerId })),
    );
    const written = await writeSubscriptionStateIfNewer(tx, userId, read.state, read.stamp, read.scheduled, read.due);
    if (!written) return { outcome: "already-current", userId } as const;
    // The address is having its trial: a new account with it gets none (kept past this account's deletion, which
    // claims any address that ever subscribed). Written while trialing only, not by every later sync.
    if (read.state.subscriptionStatus === "trialing") await claimTrial(tx, user.email);
    // Billing emails commit with the state that causes them (the outbox, keyed per fact; delivered after commit).
    await enqueueBillingEmails(tx, user, read.state, { subscription: read.subscription ?? null });
    return { outcome: "synced", userId, state: read.state, budgetReset: read.budgetReset } as const;
  });
}

/** Records a webhook event that changes no user (no customer, or one Hourglass does not know). False: already recorded. */
export async function claimAlone(deps: Pick<SyncDeps, "db">, event: StripeEventClaim): Promise<boolean> {
  return deps.db.transaction((tx: Executor) => claimStripeEvent(tx, event));
}

/**
 * One read of a customer from Stripe, and the refill it earns, with no connection held while Stripe answers.
 * The refill happens before the event is recorded on purpose: if the store is down the sync fails, the event is
 * not recorded, and Stripe retries it.
 */
async function readCustomer(customerId: string, user: User, deps: SyncDeps, budgetMissing: boolean): Promise<CustomerRead> {
  const stamp = await nextStripeReadStamp(deps.db);
  // The latest invoice comes along so a renewal or purchase usually needs no second call (see earnedBudget).
  const subscriptions = await deps.stripe.subscriptions.list({
    customer: customerId,
    status: "all",
    limit: 100,
    expand: ["data.latest_invoice"],
  });
  // Exactly one live subscription: a second one that went live anyway is canceled and refunded before anything
  // is decided from the list, so the older one alone decides access and the budget.
  const keeper = keeperOf(subscriptions.data);
  const retired = await Promise.all(duplicatesToRetire(subscriptions.data, keeper).map((sub) => retireDuplicate(deps.stripe, sub, keeper?.id ?? "")));
  const retiredIds = new Set(retired.map((d) => d.subscriptionId));
  const duplicates = [...retiredDuplicates(subscriptions.data).filter((d) => !retiredIds.has(d.subscriptionId)), ...retired];
  const current = keeper ?? pickCurrentSubscription(subscriptions.data);
  const state = current ? subscriptionState(current, deps.graceSeconds) : freeState;
  const due = current ? await paymentDue(current, deps.stripe) : nothingDue;
  if (!current || !state.planActive) return { stamp, state, budgetReset: false, subscription: current, duplicates, due };
  const scheduled = await scheduledPlanChange(current, state, deps.stripe);

  // The row as it is now: the read before this one (reads of a customer take turns here) recorded its refill.
  const stored = (await findUserByStripeCustomer(deps.db, customerId)) ?? user;
  // Refills follow the writes' rule: a read older than the one stored leaves the budget to that newer read.
  if (!budgetMissing && stored.stripeReadStamp !== null && stored.stripeReadStamp > stamp) return { stamp, state, budgetReset: false, subscription: current, duplicates, scheduled, due };
  // A sync already asked the store to refill this period: the store would answer "already applied".
  const refilledAlready =
    !budgetMissing &&
    stored.budgetRefilledFor !== null &&
    state.stripeCurrentPeriodEnd?.getTime() === stored.budgetRefilledFor.getTime();
  const refill = refilledAlready ? null : await earnedBudget(current, deps, due);
  // A yearly plan's budget lives in monthly windows: both the refill and an upgrade's raise name the current one.
  const budgetEndsAt = budgetPeriodEnd(current, windowMoment(deps.now(), stored.stripeTestClockTime));
  let budgetReset = false;
  if (refill) {
    budgetReset = (await deps.budget.reset(user.id, refill.tokenBudget, budgetEndsAt ?? refill.periodEnd)).applied;
    // Recorded at once, not with the event: the store has the refill whether or not this event's write commits.
    // A yearly plan records the paid year's end: the chat starts each later monthly window itself (entitlement).
    await recordBudgetRefill(deps.db, user.id, refill.periodEnd);
  }
  if (!budgetReset) await raiseToPlanCap(user.id, stored, state, deps.budget, budgetEndsAt, typeof current.latest_invoice === "object" ? current.latest_invoice : null);
  return { stamp, state, budgetReset, subscription: current, duplicates, scheduled, due };
}

const owingStatuses: ReadonlySet<Stripe.Subscription.Status> = new Set(["past_due", "unpaid"]);

/**
 * The invoice a past-due or unpaid subscription owes: usually its expanded latest invoice; when that one is not the
 * open one (a later invoice was paid), the oldest open invoice of the subscription, at the cost of one more read.
 * The grace starts when the invoice was finalized (issued); the hosted page is where the customer can pay it.
 */
async function paymentDue(sub: Stripe.Subscription, stripe: Stripe): Promise<PaymentDue> {
  if (!owingStatuses.has(sub.status)) return nothingDue;
  const latest = typeof sub.latest_invoice === "object" ? sub.latest_invoice : null;
  const open =
    latest?.status === "open"
      ? latest
      : (await stripe.invoices.list({ subscription: sub.id, status: "open", limit: 10 })).data.sort((a, b) => a.created - b.created)[0];
  if (!open) return nothingDue;
  return {
    pastDueSince: fromUnix(open.status_transitions.finalized_at ?? open.created),
    openInvoiceUrl: open.hosted_invoice_url ?? null,
  };
}

const noScheduledChange: ScheduledPlanChange = { scheduledPlanId: null, scheduledPlanAt: null };

/**
 * The plan the subscription switches to at a later phase of its schedule (how Stripe carries out a portal downgrade
 * under `schedule_at_period_end`), and when. Costs a Stripe read only for a subscription that has a schedule. A
 * subscription set to end switches to nothing.
 */
async function scheduledPlanChange(sub: Stripe.Subscription, state: SubscriptionState, stripe: Stripe): Promise<ScheduledPlanChange> {
  const item = licensedItem(sub);
  if (!sub.schedule || !item || state.cancelAt) return noScheduledChange;
  const id = typeof sub.schedule === "string" ? sub.schedule : sub.schedule.id;
  const schedule = await stripe.subscriptionSchedules.retrieve(id, { expand: ["phases.items.price"] });
  if (schedule.status !== "active" && schedule.status !== "not_started") return noScheduledChange;
  const next = schedule.phases.find((phase) => phase.start_date >= item.current_period_end);
  const price = next?.items[0]?.price;
  const plan = price && typeof price === "object" && !price.deleted ? findPlanByLookupKey(price.lookup_key) : null;
  if (!next || !plan || plan.id === state.planId) return noScheduledChange;
  return { scheduledPlanId: plan.id, scheduledPlanAt: fromUnix(next.start_date) };
}

/**
 * An upgrade takes effect at once: the current period's budget rises by the difference of the two caps. The store
 * is asked whenever this read's plan has a higher cap than the plan the row shows (the row is written only after
 * the raise succeeded, so until then every sync of the change asks again); the store's recorded cap makes the raise
 * once per change in any order, and makes a return to a cap already granted this period add nothing. A budget from
 * before caps were recorded is taken as granted under the plan the row shows.
 *
 * The upgrade's own invoice (the portal charges the difference at once) must be paid first: while its charge is
 * declined nothing is raised, though the row already shows the new plan; the sync of its payment then raises (the
 * store's recorded cap, not the row, tells whether that raise is still to come).
 */
async function raiseToPlanCap(
  userId: string,
  stored: User,
  state: SubscriptionState,
  budget: SyncDeps["budget"],
  budgetEndsAt: Date | null,
  latest: Stripe.Invoice | null,
): Promise<void> {
  // A trial's cap is its own budget: the full one comes with the first paid invoice (a reset), never as a raise.
  const cap = budgetFor(getPlan(state.planId), state.subscriptionStatus);
  const storedCap = budgetFor(getPlan(stored.planId), stored.subscriptionStatus);
  const change = latest?.billing_reason === "subscription_update" ? latest : null;
  if (change && change.status !== "paid" && change.amount_remaining > 0) return;
  const changePaid = change?.status === "paid";
  if ((cap <= storedCap && !changePaid) || !budgetEndsAt) return;
  await budget.raiseCap(userId, cap, budgetEndsAt, { unrecordedCap: storedCap > 0 && storedCap < cap ? storedCap : cap });
}

/**
 * When the budget of the subscription's current period ends: the item's period end, or for a yearly price past its
 * trial the end of the monthly window (from the billing anchor) holding `now`, or the period's start when `now` is
 * before it (a test clock ahead of the wall clock).
 */
export function budgetPeriodEnd(sub: Stripe.Subscription, now: Date): Date | null {
  const item = licensedItem(sub);
  if (!item) return null;
  const periodEnd = fromUnix(item.current_period_end);
  if (item.price.recurring?.interval !== "year" || sub.status === "trialing") return periodEnd;
  const at = Math.max(now.getTime(), item.current_period_start * 1000);
  return monthlyWindowAt(fromUnix(sub.billing_cycle_anchor), periodEnd, new Date(at))?.endsAt ?? periodEnd;
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
  billingInterval: null,
  billingAnchor: null,
  trialEndsAt: null,
  stripeOverageLookupKey: null,
};

/**
 * The subscription that decides access: the live one kept when there are several (the older, see
 * duplicate-subscriptions), else the newest of any status.
 */
export function pickCurrentSubscription(subscriptions: readonly Stripe.Subscription[]): Stripe.Subscription | null {
  const newestFirst = [...subscriptions].sort((a, b) => b.created - a.created);
  return keeperOf(subscriptions) ?? newestFirst.find((sub) => activeSubscriptionStatuses.has(sub.status)) ?? newestFirst[0] ?? null;
}

const fromUnix = (seconds: number) => new Date(seconds * 1000);

export function subscriptionState(sub: Stripe.Subscription, graceSeconds: number): SubscriptionState {
  const item = licensedItem(sub);
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

  // A trial whose first paid invoice failed grants nothing: past_due's grace is for customers who have paid before.
  const unpaidAfterTrial = sub.status === "past_due" && sub.trial_end !== null && item?.current_period_start === sub.trial_end;

  return {
    stripeSubscriptionId: sub.id,
    stripePriceId: item?.price.id ?? null,
    stripeCurrentPeriodEnd: periodEnd === null ? null : fromUnix(periodEnd),
    planActive: !ended && !unpaidAfterTrial && activeSubscriptionStatuses.has(sub.status),
    planExpires,
    planId: plan?.id ?? null,
    subscriptionStatus: sub.status,
    cancelAt: cancelAtSeconds === null || ended ? null : fromUnix(cancelAtSeconds),
    billingInterval: item?.price.recurring?.interval ?? null,
    billingAnchor: fromUnix(sub.billing_cycle_anchor),
    trialEndsAt: sub.trial_end === null ? null : fromUnix(sub.trial_end),
    stripeOverageLookupKey: meteredItem(sub)?.price.lookup_key ?? null,
  };
}

const refillingReasons: ReadonlySet<Stripe.Invoice.BillingReason> = new Set(["subscription_create", "subscription_cycle"]);

/**
 * A plan change that started the current period: switching to a longer interval (monthly to yearly) restarts the
 * billing cycle at once and bills the whole new period, not a proration. Paid, it is a purchase of that period and
 * earns its budget like a renewal. A change within the period (an upgrade) only prorates, and never refills; a switch
 * to a shorter interval is scheduled for the period end, where a renewal invoice refills as usual.
 */
function startsCurrentPeriod(invoice: Stripe.Invoice, item: Stripe.SubscriptionItem): boolean {
  return (
    invoice.billing_reason === "subscription_update" &&
    invoice.lines.data.some(
      (line) =>
        line.parent?.subscription_item_details?.proration === false &&
        line.period.start === item.current_period_start &&
        line.period.end >= item.current_period_end,
    )
  );
}

/**
 * The budget the current period has earned: a paid first or renewal invoice covering the current period
 * refills, as does a paid switch to a longer interval (it starts a new period, see startsCurrentPeriod); plan-change
 * prorations and unpaid invoices never do. Usually the expanded latest invoice decides;
 * when it is a plan change, recent invoices are looked at too, so a plan change made before the first
 * invoice's event arrived does not hide the purchase.
 *
 * One exception keeps a subscriber's chat working while a renewal payment is retried: a renewal the card could not
 * pay earns the new period's budget during the grace (BILLING_GRACE_SECONDS from when its invoice was issued).
 * After the grace chat refuses with 402 until the invoice is paid (see the chat entitlement), and paying it later
 * refills nothing more: the period's refill is recorded once.
 */
async function earnedBudget(
  sub: Stripe.Subscription,
  { stripe, graceSeconds, now }: Pick<SyncDeps, "stripe" | "graceSeconds" | "now">,
  due: PaymentDue,
): Promise<{ tokenBudget: number; periodEnd: Date } | null> {
  const item = licensedItem(sub);
  const plan = findPlanByLookupKey(item?.price.lookup_key);
  if (!item || !plan || plan.tokenBudget === 0) return null;
  const refills = (invoice: Stripe.Invoice) =>
    invoice.status === "paid" &&
    ((invoice.billing_reason !== null &&
      refillingReasons.has(invoice.billing_reason) &&
      invoice.lines.data.some((line) => line.period.end >= item.current_period_end)) ||
      startsCurrentPeriod(invoice, item));
  // A trial's $0 first invoice earns the trial's budget; the first paid invoice after it, the plan's.
  const earned = { tokenBudget: budgetFor(plan, sub.status), periodEnd: fromUnix(item.current_period_end) };

  const latest = typeof sub.latest_invoice === "object" ? sub.latest_invoice : null;
  if (latest && refills(latest)) return earned;
  const renewalInGrace =
    sub.status === "past_due" &&
    latest?.status === "open" &&
    latest.billing_reason === "subscription_cycle" &&
    due.pastDueSince !== null &&
    due.pastDueSince.getTime() + graceSeconds * 1000 > now().getTime();
  if (renewalInGrace) return earned;
  // The newest first or renewal invoice is unpaid: this period has not been paid for.
  if (latest?.billing_reason && refillingReasons.has(latest.billing_reason)) return null;
  const invoices = await stripe.invoices.list({ subscription: sub.id, limit: 10 });
  return invoices.data.some(refills) ? earned : null;
}

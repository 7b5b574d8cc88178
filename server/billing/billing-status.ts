// The billing picture the pages show: plan, status, renewal or cancellation date, and the token budget. It only
// reads (the user's row and the budget store): never Stripe, never a write. A budget that is missing stays shown
// as missing here; restoring it is an explicit step that chat takes (restoreBudgetFromStripe).
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { trialClaimed } from "@/db/queries/trial-claims";
import { findUserById } from "@/db/queries/users";
import { env } from "@/lib/env";
import { AppError } from "@/server/errors";
import { getBudgetStore, type BudgetSnapshot, type BudgetStore } from "@/server/usage";
import { budgetPeriodAt, currentPlan, hasActivePlan, paymentDueNotice, type PaymentDueNotice } from "./entitlement";
import { billingIntervals, creditPacks, getPlan, type BillingInterval, type CreditPackId } from "./plans";

/** The synced column as an interval the page can name; anything else (no subscription) is null. */
const billingIntervalOf = (value: string | null): BillingInterval | null =>
  billingIntervals.find((interval) => interval === value) ?? null;

export interface BillingStatus {
  planId: string;
  planName: string;
  active: boolean;
  subscriptionStatus: string | null;
  /** Whether a first subscription would start with a trial: never subscribed, here or in a deleted account. */
  trialAvailable: boolean;
  /** How often Stripe bills the plan (`month`, `year`); null without a paid plan. */
  billingInterval: BillingInterval | null;
  /** When the current period ends and the plan renews (null without a subscription or when it is set to end). */
  renewsAt: Date | null;
  /** When a scheduled cancellation ends the plan. */
  cancelsAt: Date | null;
  /** A plan change scheduled for the period end (a downgrade): the plan and when it starts. */
  scheduledChange: { planId: string; planName: string; at: Date } | null;
  pastDue: boolean;
  /** When the trial ends, while the subscription is trialing. */
  trialEndsAt: Date | null;
  /** The open invoice a past-due plan owes and until when chat keeps working; null while nothing is owed. */
  paymentDue: PaymentDueNotice | null;
  hasStripeCustomer: boolean;
  /** Null without a plan that includes chat; `tokensRemaining` is null while the budget store cannot be reached. */
  budget: { tokenBudget: number; tokensRemaining: number | null; resetsAt: Date | null } | null;
  /** Tokens left in live credit packs, spent after the budget; null without a budget, or when the store cannot be read. */
  packTokens: number | null;
  /** The credit pack chat offers once the budget is used up (the plans table's first); null without an active plan. */
  packOffer: { id: CreditPackId; name: string; tokens: number; amountCents: number; expiryDays: number } | null;
}

export async function getBillingStatus(
  userId: string,
  deps: { db?: Db; budget?: Pick<BudgetStore, "read"> & Partial<Pick<BudgetStore, "readPacks">>; now?: Date } = {},
): Promise<BillingStatus> {
  const db = deps.db ?? (await getDb());
  const user = await findUserById(db, userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Your account no longer exists. Sign in again.");
  const active = hasActivePlan(user, deps.now);
  const plan = currentPlan(user, deps.now);
  const store = deps.budget ?? getBudgetStore();
  const readBudget = async (): Promise<BudgetSnapshot | null | "unavailable"> => {
    try {
      return await store.read(userId);
    } catch (error) {
      // The store is down: the page still shows the plan, and says the budget cannot be read (chat answers 503).
      console.error(`could not read the budget of user ${userId}`, error);
      return "unavailable";
    }
  };
  // The trial's budget while trialing; a paid yearly plan's current monthly window (started by the next chat if not yet).
  const period = budgetPeriodAt(user, deps.now);
  const snapshot = active && plan.tokenBudget > 0 ? await readBudget() : null;
  // A yearly plan's budget of an earlier monthly window (its key outlives the window only while a test clock runs
  // ahead of the wall clock) reads as the new window: full, until the next chat starts it.
  const earlierWindow = (budget: BudgetSnapshot | null) =>
    period.refillsMonthly && budget?.resetsAt && period.endsAt && budget.resetsAt.getTime() < period.endsAt.getTime();
  const budgetSnapshot = snapshot === "unavailable" || earlierWindow(snapshot) ? null : snapshot;
  const packTokens = active && plan.tokenBudget > 0 && snapshot !== "unavailable" ? await readPackTokens(store, userId) : null;
  return {
    planId: plan.id,
    planName: plan.name,
    active,
    subscriptionStatus: user.subscriptionStatus,
    trialAvailable: user.subscriptionStatus === null && !(await trialClaimed(db, user.email)),
    billingInterval: active ? billingIntervalOf(user.billingInterval) : null,
    renewsAt: active && !user.cancelAt ? user.stripeCurrentPeriodEnd : null,
    cancelsAt: active ? user.cancelAt : null,
    scheduledChange:
      active && !user.cancelAt && user.scheduledPlanId && user.scheduledPlanAt
        ? { planId: user.scheduledPlanId, planName: getPlan(user.scheduledPlanId).name, at: user.scheduledPlanAt }
        : null,
    pastDue: active && user.subscriptionStatus === "past_due",
    trialEndsAt: active && user.subscriptionStatus === "trialing" ? user.trialEndsAt : null,
    paymentDue: active ? paymentDueNotice(user, deps.now) : null,
    hasStripeCustomer: Boolean(user.stripeCustomerId),
    budget:
      active && plan.tokenBudget > 0
        ? {
            tokenBudget: period.tokenBudget,
            tokensRemaining: snapshot === "unavailable" ? null : (budgetSnapshot?.tokensRemaining ?? (period.refillsMonthly ? period.tokenBudget : 0)),
            resetsAt: budgetSnapshot?.resetsAt ?? period.endsAt,
          }
        : null,
    packTokens,
    packOffer: active && plan.tokenBudget > 0 ? defaultPackOffer() : null,
  };
}

function defaultPackOffer(): BillingStatus["packOffer"] {
  const pack = Object.values(creditPacks)[0];
  return pack ? { id: pack.id, name: pack.name, tokens: pack.tokens, amountCents: pack.amountCents, expiryDays: env.CREDIT_PACK_EXPIRY_DAYS } : null;
}

/** What is left in the user's live packs, or null when they cannot be read (the page says the budget is unreadable). */
async function readPackTokens(store: Partial<Pick<BudgetStore, "readPacks">>, userId: string): Promise<number | null> {
  if (!store.readPacks) return null;
  try {
    const packs = await store.readPacks(userId);
    return packs.reduce((sum, pack) => sum + pack.tokensRemaining, 0);
  } catch (error) {
    console.error(`could not read the credit packs of user ${userId}`, error);
    return null;
  }
}

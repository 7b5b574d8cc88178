// What a user's plan allows right now, read from the synced billing columns (never from Stripe on the hot path).
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { findUserById } from "@/db/queries/users";
import type { User } from "@/db/schema";
import { env } from "@/lib/env";
import { monthlyWindowAt, windowMoment, type BudgetWindow } from "./budget-window";
import { budgetFor, getPlan, type Plan } from "./plans";

export interface ChatEntitlement {
  active: boolean;
  /** The budget of the current budget period: the plan's monthly budget, or the trial's while trialing. */
  tokenBudget: number;
  /** When the current budget period ends: the billing period's end, or a paid yearly plan's current monthly window's. */
  periodEndsAt: Date | null;
  /**
   * The budget refills at `periodEndsAt` with no invoice (a paid yearly plan's monthly window): whoever reserves first
   * in a new window starts it (the store's reset is once per window). Absent: false.
   */
  refillsMonthly?: boolean;
  /** The chat models the current plan includes, default first. */
  models: Plan["models"];
  /** A failed payment: chat works until `chatStopsAt` (the grace), then `stopped` until the invoice is paid. Absent or null: nothing owed. */
  paymentDue?: PaymentDueNotice | null;
}

export interface PaymentDueNotice {
  /** The open invoice's hosted page, where it can be paid; null if Stripe gave none. */
  invoiceUrl: string | null;
  /** When the invoice was issued plus BILLING_GRACE_SECONDS. */
  chatStopsAt: Date;
  stopped: boolean;
}

/**
 * The payment a past-due subscription owes, from the synced row: chat keeps working through the grace
 * (BILLING_GRACE_SECONDS from when the invoice was issued), then stops until it is paid. Null while nothing is owed.
 */
export function paymentDueNotice(
  user: Pick<User, "planActive" | "subscriptionStatus" | "pastDueSince" | "openInvoiceUrl">,
  now: Date = new Date(),
  graceSeconds: number = env.BILLING_GRACE_SECONDS,
): PaymentDueNotice | null {
  if (!user.planActive || user.subscriptionStatus !== "past_due" || !user.pastDueSince) return null;
  const chatStopsAt = new Date(user.pastDueSince.getTime() + graceSeconds * 1000);
  return { invoiceUrl: user.openInvoiceUrl, chatStopsAt, stopped: chatStopsAt <= now };
}

/** Access holds while the plan is active and its expiry (period end + grace, or the cancel date) is ahead. */
export function hasActivePlan(user: Pick<User, "planActive" | "planExpires">, now: Date = new Date()): boolean {
  return user.planActive && (user.planExpires === null || user.planExpires > now);
}

export function currentPlan(user: Pick<User, "planActive" | "planExpires" | "planId">, now: Date = new Date()): Plan {
  return hasActivePlan(user, now) ? getPlan(user.planId) : getPlan("free");
}

export interface BudgetPeriod {
  tokenBudget: number;
  endsAt: Date | null;
  refillsMonthly: boolean;
}

type PeriodColumns = Pick<
  User,
  | "planActive"
  | "planExpires"
  | "planId"
  | "subscriptionStatus"
  | "stripeCurrentPeriodEnd"
  | "billingInterval"
  | "billingAnchor"
  | "budgetRefilledFor"
  | "stripeTestClockTime"
>;

/**
 * The budget period a user is in at `now`. A yearly plan whose year is paid (its refill is recorded for the current
 * period) is in the monthly window of its billing anchor (at the customer's test clock when it is ahead, in test
 * mode); anything else is in its billing period. Reads only the row.
 */
export function budgetPeriodAt(user: PeriodColumns, now: Date = new Date()): BudgetPeriod {
  const plan = currentPlan(user, now);
  const tokenBudget = budgetFor(plan, user.subscriptionStatus);
  const window = yearlyBudgetWindowAt(user, now);
  return window
    ? { tokenBudget, endsAt: window.endsAt, refillsMonthly: true }
    : { tokenBudget, endsAt: user.stripeCurrentPeriodEnd, refillsMonthly: false };
}

/** The monthly window a paid yearly plan is in at `now` (see budgetPeriodAt); null for any other plan. */
export function yearlyBudgetWindowAt(user: Omit<PeriodColumns, "planId" | "planExpires">, now: Date = new Date()): BudgetWindow | null {
  const periodEnd = user.stripeCurrentPeriodEnd;
  const yearPaid =
    user.billingInterval === "year" &&
    user.subscriptionStatus !== "trialing" &&
    periodEnd !== null &&
    user.budgetRefilledFor !== null &&
    user.budgetRefilledFor.getTime() === periodEnd.getTime();
  if (!yearPaid || !user.billingAnchor) return null;
  return monthlyWindowAt(user.billingAnchor, periodEnd, windowMoment(now, user.stripeTestClockTime));
}

export async function getChatEntitlement(
  userId: string,
  deps: { db?: Db; now?: Date; graceSeconds?: number } = {},
): Promise<ChatEntitlement> {
  const db = deps.db ?? (await getDb());
  const user = await findUserById(db, userId);
  if (!user) return { active: false, tokenBudget: 0, periodEndsAt: null, models: [], paymentDue: null };
  const plan = currentPlan(user, deps.now);
  const active = hasActivePlan(user, deps.now);
  const period = budgetPeriodAt(user, deps.now);
  return {
    active: active && period.tokenBudget > 0,
    tokenBudget: period.tokenBudget,
    periodEndsAt: period.endsAt,
    ...(period.refillsMonthly ? { refillsMonthly: true } : {}),
    models: plan.models,
    paymentDue: active ? paymentDueNotice(user, deps.now, deps.graceSeconds) : null,
  };
}

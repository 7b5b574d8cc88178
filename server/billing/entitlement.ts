// What a user's plan allows right now, read from the synced billing columns (never from Stripe on the hot path).
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { findUserById } from "@/db/queries/users";
import type { User } from "@/db/schema";
import { env } from "@/lib/env";
import { getPlan, type Plan } from "./plans";

export interface ChatEntitlement {
  active: boolean;
  tokenBudget: number;
  periodEndsAt: Date | null;
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

export async function getChatEntitlement(
  userId: string,
  deps: { db?: Db; now?: Date; graceSeconds?: number } = {},
): Promise<ChatEntitlement> {
  const db = deps.db ?? (await getDb());
  const user = await findUserById(db, userId);
  if (!user) return { active: false, tokenBudget: 0, periodEndsAt: null, models: [], paymentDue: null };
  const plan = currentPlan(user, deps.now);
  const active = hasActivePlan(user, deps.now);
  return {
    active: active && plan.tokenBudget > 0,
    tokenBudget: plan.tokenBudget,
    periodEndsAt: user.stripeCurrentPeriodEnd,
    models: plan.models,
    paymentDue: active ? paymentDueNotice(user, deps.now, deps.graceSeconds) : null,
  };
}

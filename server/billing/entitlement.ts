// What a user's plan allows right now, read from the synced billing columns (never from Stripe on the hot path).
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { findUserById } from "@/db/queries/users";
import type { User } from "@/db/schema";
import { getPlan, type Plan } from "./plans";

export interface ChatEntitlement {
  active: boolean;
  tokenBudget: number;
  periodEndsAt: Date | null;
  /** The chat models the current plan includes, default first. */
  models: Plan["models"];
}

/** Access holds while the plan is active and its expiry (period end + grace, or the cancel date) is ahead. */
export function hasActivePlan(user: Pick<User, "planActive" | "planExpires">, now: Date = new Date()): boolean {
  return user.planActive && (user.planExpires === null || user.planExpires > now);
}

export function currentPlan(user: Pick<User, "planActive" | "planExpires" | "planId">, now: Date = new Date()): Plan {
  return hasActivePlan(user, now) ? getPlan(user.planId) : getPlan("free");
}

export async function getChatEntitlement(userId: string, deps: { db?: Db; now?: Date } = {}): Promise<ChatEntitlement> {
  const db = deps.db ?? (await getDb());
  const user = await findUserById(db, userId);
  if (!user) return { active: false, tokenBudget: 0, periodEndsAt: null, models: [] };
  const plan = currentPlan(user, deps.now);
  return {
    active: hasActivePlan(user, deps.now) && plan.tokenBudget > 0,
    tokenBudget: plan.tokenBudget,
    periodEndsAt: user.stripeCurrentPeriodEnd,
    models: plan.models,
  };
}

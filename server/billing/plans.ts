// Plans are data: adding a plan is a new row here plus `npm run stripe:setup`. Plans are found by id or by
// Stripe lookup key, never by display name. Which subscription statuses grant access is a setting too.
import type Stripe from "stripe";
import type { ChatModelId } from "@/lib/chat-models";
import { env } from "@/lib/env";

export interface Plan {
  id: string;
  name: string;
  description: string;
  /** Display price per month, in cents. */
  amountCents: number;
  /** The Stripe price's lookup_key; null for the free tier, which has no price. */
  lookupKey: string | null;
  /** Chat tokens per billing period. */
  tokenBudget: number;
  /** The chat models (lib/chat-models) the plan includes; the first is the default. */
  models: readonly ChatModelId[];
  features: string[];
}

export const plans = {
  free: {
    id: "free",
    name: "Free",
    description: "Everything but the chat.",
    amountCents: 0,
    lookupKey: null,
    tokenBudget: 0,
    models: [],
    features: ["Account and billing portal", "No chat tokens"],
  },
  starter: {
    id: "starter",
    name: "Starter",
    description: "For trying ideas out.",
    amountCents: 900,
    lookupKey: "hourglass_starter_monthly",
    tokenBudget: env.CHAT_TOKEN_BUDGET,
    models: ["small"],
    features: [`${env.CHAT_TOKEN_BUDGET.toLocaleString("en-US")} chat tokens a month`, "Streaming answers", "Email support"],
  },
  pro: {
    id: "pro",
    name: "Pro",
    description: "For daily work.",
    amountCents: 2900,
    lookupKey: "hourglass_pro_monthly",
    tokenBudget: env.CHAT_TOKEN_BUDGET * 5,
    models: ["small", "large"],
    features: [`${(env.CHAT_TOKEN_BUDGET * 5).toLocaleString("en-US")} chat tokens a month`, "Streaming answers", "Priority support"],
  },
} as const satisfies Record<string, Plan>;

export type PlanId = keyof typeof plans;
export type PaidPlan = (typeof plans)[Exclude<PlanId, "free">];

export const paidPlans: PaidPlan[] = [plans.starter, plans.pro];
export const paidPlanIds = ["starter", "pro"] as const satisfies readonly PaidPlan["id"][];

/** Subscription statuses that grant a plan's features. `incomplete` covers the first payment being retried. */
export const activeSubscriptionStatuses: ReadonlySet<Stripe.Subscription.Status> = new Set([
  "active",
  "trialing",
  "past_due",
  "incomplete",
]);

export function getPlan(id: string | null | undefined): Plan {
  return (id && id in plans ? plans[id as PlanId] : null) ?? plans.free;
}

export function findPlanByLookupKey(lookupKey: string | null | undefined): PaidPlan | null {
  return paidPlans.find((plan) => plan.lookupKey === lookupKey) ?? null;
}

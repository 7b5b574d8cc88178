// Plans are data: adding a plan is a new row here plus `npm run stripe:setup`. Plans are found by id or by
// Stripe lookup key, never by display name. Which subscription statuses grant access is a setting too.
import type Stripe from "stripe";
import type { ChatModelId } from "@/lib/chat-models";
import { env } from "@/lib/env";

export interface Plan {
  id: string;
  name: string;
  description: string;
  /** Display price per month, in cents (the monthly price). */
  amountCents: number;
  /** The monthly Stripe price's lookup_key; null for the free tier, which has no price. */
  lookupKey: string | null;
  /** Price per year, in cents (defaults to 10 months' worth: two months free). */
  yearlyAmountCents: number;
  /** The yearly Stripe price's lookup_key; null for the free tier. */
  yearlyLookupKey: string | null;
  /** Chat tokens per month, on the monthly and the yearly price alike (a yearly budget refills every month). */
  tokenBudget: number;
  /** Days of free trial a first subscription to this plan starts with (card required); 0: no trial. */
  trialDays: number;
  /** Chat tokens for the whole trial. */
  trialTokenBudget: number;
  /** The chat models (lib/chat-models) the plan includes; the first is the default. */
  models: readonly ChatModelId[];
  features: string[];
  /** Metered overage past the budget (BILLING_OVERAGE=1): its monthly price's lookup key and cents per 1,000 tokens. */
  overage?: PlanOverage;
}

/** Billed per started 1,000 tokens over the period (Stripe: `transform_quantity` divide_by 1000, round up). */
export interface PlanOverage {
  lookupKey: string;
  centsPer1000Tokens: number;
}

/** A yearly price costs this many months of the monthly one. */
const YEARLY_MONTHS = 10;
/** A trial's chat tokens unless the plan says otherwise. */
export const DEFAULT_TRIAL_TOKEN_BUDGET = 100_000;

export const billingIntervals = ["month", "year"] as const;
export type BillingInterval = (typeof billingIntervals)[number];

export const plans = {
  free: {
    id: "free",
    name: "Free",
    description: "Everything but the chat.",
    amountCents: 0,
    lookupKey: null,
    yearlyAmountCents: 0,
    yearlyLookupKey: null,
    tokenBudget: 0,
    trialDays: 0,
    trialTokenBudget: 0,
    models: [],
    features: ["Account and billing portal", "No chat tokens"],
  },
  starter: {
    id: "starter",
    name: "Starter",
    description: "For trying ideas out.",
    amountCents: 900,
    lookupKey: "hourglass_starter_monthly",
    yearlyAmountCents: 900 * YEARLY_MONTHS,
    yearlyLookupKey: "hourglass_starter_yearly",
    tokenBudget: env.CHAT_TOKEN_BUDGET,
    trialDays: 7,
    // Never more than the plan's own month.
    trialTokenBudget: Math.min(DEFAULT_TRIAL_TOKEN_BUDGET, env.CHAT_TOKEN_BUDGET),
    models: ["small"],
    features: [`${env.CHAT_TOKEN_BUDGET.toLocaleString("en-US")} chat tokens a month`, "Streaming answers", "Email support"],
    overage: { lookupKey: "hourglass_starter_overage", centsPer1000Tokens: 2 },
  },
  pro: {
    id: "pro",
    name: "Pro",
    description: "For daily work.",
    amountCents: 2900,
    lookupKey: "hourglass_pro_monthly",
    yearlyAmountCents: 2900 * YEARLY_MONTHS,
    yearlyLookupKey: "hourglass_pro_yearly",
    tokenBudget: env.CHAT_TOKEN_BUDGET * 5,
    trialDays: 0,
    trialTokenBudget: DEFAULT_TRIAL_TOKEN_BUDGET,
    models: ["small", "large"],
    features: [`${(env.CHAT_TOKEN_BUDGET * 5).toLocaleString("en-US")} chat tokens a month`, "Streaming answers", "Priority support"],
    overage: { lookupKey: "hourglass_pro_overage", centsPer1000Tokens: 1 },
  },
} as const satisfies Record<string, Plan>;

export type PlanId = keyof typeof plans;
export type PaidPlan = (typeof plans)[Exclude<PlanId, "free">];

export const paidPlans: PaidPlan[] = [plans.starter, plans.pro];
export const paidPlanIds = ["starter", "pro"] as const satisfies readonly PaidPlan["id"][];

/**
 * A credit pack: extra chat tokens bought once (a one-time Stripe price), spent after the period's budget, oldest
 * pack first, and only while a plan is active. Adding a pack is a new row here plus `npm run stripe:setup`.
 */
export interface CreditPack {
  id: string;
  name: string;
  tokens: number;
  /** Price in cents, charged once. */
  amountCents: number;
  /** The one-time Stripe price's lookup_key. */
  lookupKey: string;
}

export const creditPacks = {
  tokens_1m: { id: "tokens_1m", name: "1,000,000 tokens", tokens: 1_000_000, amountCents: 500, lookupKey: "hourglass_pack_1m" },
} as const satisfies Record<string, CreditPack>;

export type CreditPackId = keyof typeof creditPacks;
export const creditPackIds = Object.keys(creditPacks) as [CreditPackId, ...CreditPackId[]];

/** The pack a purchase names (Checkout metadata), or null for an id no longer (or never) in the table. */
export function findCreditPack(id: string | null | undefined): CreditPack | null {
  return id && Object.hasOwn(creditPacks, id) ? creditPacks[id as CreditPackId] : null;
}

/** When a pack bought at `grantedAt` stops being spendable (CREDIT_PACK_EXPIRY_DAYS later). */
export function creditPackExpiry(grantedAt: Date): Date {
  return new Date(grantedAt.getTime() + env.CREDIT_PACK_EXPIRY_DAYS * 24 * 60 * 60 * 1000);
}

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

/** The plan a Stripe price belongs to, by its lookup key: the monthly or the yearly one. */
export function findPlanByLookupKey(lookupKey: string | null | undefined): PaidPlan | null {
  if (!lookupKey) return null;
  return paidPlans.find((plan) => plan.lookupKey === lookupKey || plan.yearlyLookupKey === lookupKey) ?? null;
}

/** The lookup key and amount of a paid plan's price for an interval. */
export function planPrice(plan: PaidPlan, interval: BillingInterval): { lookupKey: string; amountCents: number } {
  return interval === "year"
    ? { lookupKey: plan.yearlyLookupKey, amountCents: plan.yearlyAmountCents }
    : { lookupKey: plan.lookupKey, amountCents: plan.amountCents };
}

/** Whether Checkout starts a first subscription to the plan with a free trial (STRIPE_NO_TRIALS turns trials off). */
export function trialOffered(plan: Plan): boolean {
  return plan.trialDays > 0 && !env.STRIPE_NO_TRIALS;
}

/** The budget a subscription status grants: a trial's own budget while trialing, else the plan's monthly one. */
export function budgetFor(plan: Plan, status: string | null | undefined): number {
  return status === "trialing" ? plan.trialTokenBudget : plan.tokenBudget;
}

// Metered overage (BILLING_OVERAGE=1): past the period's budget and packs, a subscriber chats on up to a monthly
// spending cap they set, billed in arrears through a Stripe Billing Meter. Tokens are billed per started 1,000 over
// the period (the metered price's `transform_quantity`), so a cap in cents converts to whole blocks of 1,000 tokens:
// the invoice's overage line never exceeds the cap.
import type Stripe from "stripe";
import { env } from "@/lib/env";
import type { User } from "@/db/schema";
import { paidPlans, type Plan, type PlanOverage } from "./plans";

/** The meter's event name: one event per answer that used overage tokens, its value the tokens used. */
export const OVERAGE_METER_EVENT = "hourglass_overage_tokens";
/** Billing blocks: the metered price divides the period's usage by this, rounding up. */
export const OVERAGE_TOKENS_PER_UNIT = 1000;
/** Highest monthly cap a user may set ($1,000): a typo must not become an unbounded bill. */
export const MAX_OVERAGE_CAP_CENTS = 100_000;

/** The plan's overage terms when overage is on (BILLING_OVERAGE=1), else null. */
export function overageFor(plan: Plan, enabled: boolean = env.BILLING_OVERAGE): PlanOverage | null {
  return enabled ? (plan.overage ?? null) : null;
}

/**
 * The overage terms a user's subscription is billed at, while overage is on: those of the metered price on it (the
 * sync records its lookup key). None without one: a yearly plan (Stripe bills a metered price on the subscription's
 * own interval, and the overage price is monthly), or a subscription started before overage was turned on. After a
 * plan switch the metered item keeps its price, so the cap converts at what Stripe will bill.
 */
export function userOverage(user: Pick<User, "stripeOverageLookupKey">, enabled: boolean = env.BILLING_OVERAGE): PlanOverage | null {
  if (!enabled || !user.stripeOverageLookupKey) return null;
  return paidPlans.find((plan) => plan.overage.lookupKey === user.stripeOverageLookupKey)?.overage ?? null;
}

/**
 * Whether overage waits for the first paid period: in a trial nothing has been paid yet, so usage billed in arrears
 * could never be collected if the card fails at the trial's end. The cap can be set meanwhile.
 */
export function overageAwaitsPayment(user: Pick<User, "subscriptionStatus">): boolean {
  return user.subscriptionStatus === "trialing";
}

/** Tokens a cap in cents buys at the plan's price: whole 1,000-token blocks, so their bill stays within the cap. */
export function capTokensFor(overage: PlanOverage, capCents: number): number {
  if (capCents <= 0 || overage.centsPer1000Tokens <= 0) return 0;
  return Math.floor(capCents / overage.centsPer1000Tokens) * OVERAGE_TOKENS_PER_UNIT;
}

/** What `tokens` of overage in one period costs, in cents (as the renewal invoice's line computes it). */
export function overageCents(overage: PlanOverage, tokens: number): number {
  return Math.ceil(tokens / OVERAGE_TOKENS_PER_UNIT) * overage.centsPer1000Tokens;
}

/**
 * The licensed item of a subscription: the plan's price. With overage on, a subscription also carries the metered
 * overage item (no quantity), in any order Stripe returns them; plan detection must never read that one.
 */
export function licensedItem(sub: Stripe.Subscription): Stripe.SubscriptionItem | undefined {
  const items = sub.items.data;
  return items.find((item) => item.price.recurring?.usage_type !== "metered") ?? items[0];
}

/** The subscription's metered overage item, if it has one. */
export function meteredItem(sub: Stripe.Subscription): Stripe.SubscriptionItem | undefined {
  return sub.items.data.find((item) => item.price.recurring?.usage_type === "metered");
}

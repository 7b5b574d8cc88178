// Checkout for a paid plan. A user who already has a live subscription is never sold a second one: they get
// the Billing Portal instead (checked against Stripe itself, which may be ahead of our webhooks). A new session
// expires the customer's other open ones first, so two tabs cannot both be paid; should two still complete (both
// paid before either webhook), the sync keeps the older subscription and refunds the newer (sync-subscription).
// URLs come from APP_URL (or, in development, the loopback alias the page is on), never from input.
import Stripe from "stripe";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { trialClaimed } from "@/db/queries/trial-claims";
import { findUserById } from "@/db/queries/users";
import { env } from "@/lib/env";
import { ensureStripeCustomer, resolveBillingDeps, type BillingDeps } from "./customers";
import { activeSubscriptionStatuses, billingIntervals, paidPlanIds, planPrice, plans, trialOffered } from "./plans";
import { overageFor } from "./overage";
import { createPortalSession } from "./portal";
import { requirePriceId } from "./stripe-catalog";

export const checkoutInput = z.object({
  plan: z.enum(paidPlanIds, { error: `Choose one of the plans: ${paidPlanIds.join(", ")}.` }),
  /** Monthly unless asked for: the yearly price bills once a year and refills the budget every month. */
  interval: z.enum(billingIntervals, { error: `Choose a billing interval: ${billingIntervals.join(" or ")}.` }).default("month"),
});

export type CheckoutResult = { url: string; kind: "checkout" | "portal" };

export async function createCheckoutSession(
  userId: string,
  input: z.input<typeof checkoutInput>,
  partial: Partial<BillingDeps> = {},
): Promise<CheckoutResult> {
  const deps = await resolveBillingDeps(partial);
  const plan = plans[input.plan];
  const interval = input.interval ?? "month";
  const customer = await ensureStripeCustomer(userId, deps);

  const existing = await deps.stripe.subscriptions.list({ customer, status: "all", limit: 100 });
  if (existing.data.some((sub) => activeSubscriptionStatuses.has(sub.status))) {
    return { ...(await createPortalSession(userId, {}, deps)), kind: "portal" };
  }

  const price = await requirePriceId(deps.stripe, planPrice(plan, interval).lookupKey);
  // With overage on, a monthly subscription also carries the plan's metered price (no quantity: Stripe bills the
  // meter's usage in arrears). Stripe wants one interval per subscription, so a yearly one goes without overage.
  const overage = interval === "month" ? overageFor(plan) : null;
  const overageLine = overage ? [{ price: await requirePriceId(deps.stripe, overage.lookupKey) }] : [];
  // A trial only for a customer who never had a subscription of any status, and an address that never had one in
  // another account (a deleted one, a `+tag` of it): no second trial for a returning customer.
  const trialDays = trialOffered(plan) && existing.data.length === 0 && !(await addressHadTrial(deps.db, userId)) ? plan.trialDays : 0;
  await expireOpenSessions(deps.stripe, customer);
  const session = await deps.stripe.checkout.sessions.create({
    mode: "subscription",
    customer,
    customer_update: { address: "auto", name: "auto" },
    line_items: [{ price, quantity: 1 }, ...overageLine],
    billing_address_collection: "required",
    allow_promotion_codes: true,
    // Stripe Tax from the billing address Checkout collects; off unless the account has Stripe Tax set up.
    ...(env.STRIPE_AUTOMATIC_TAX ? { automatic_tax: { enabled: true } } : {}),
    client_reference_id: userId,
    subscription_data: { metadata: { userId, plan: plan.id }, ...(trialDays > 0 ? { trial_period_days: trialDays } : {}) },
    // A trial still takes the card up front (Stripe's default skips it for a free first invoice).
    ...(trialDays > 0 ? { payment_method_collection: "always" as const } : {}),
    metadata: { userId, plan: plan.id, interval },
    success_url: new URL("/account?checkout=success&session_id={CHECKOUT_SESSION_ID}", deps.appUrl).toString(),
    cancel_url: new URL("/pricing?checkout=canceled", deps.appUrl).toString(),
  });
  if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
  return { url: session.url, kind: "checkout" };
}

/** Whether the user's email address already had a trial (or a subscription) in this or a deleted account. */
export async function addressHadTrial(db: Executor, userId: string): Promise<boolean> {
  const user = await findUserById(db, userId);
  return user ? trialClaimed(db, user.email) : false;
}

/**
 * Expires every open Checkout Session of the customer (another tab, an abandoned attempt). A session that was
 * completed or expired meanwhile is no longer open and is skipped: the sync handles a second completed one.
 */
export async function expireOpenSessions(stripe: Stripe, customer: string): Promise<number> {
  let expired = 0;
  // Expired sessions leave the "open" list, so each pass reads its first page afresh (no cursor into a changed list).
  for (let pass = 0; pass < 10; pass++) {
    const page = await stripe.checkout.sessions.list({ customer, status: "open", limit: 100 });
    for (const session of page.data) {
      try {
        await stripe.checkout.sessions.expire(session.id);
        expired += 1;
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
      }
    }
    if (!page.has_more) break;
  }
  return expired;
}

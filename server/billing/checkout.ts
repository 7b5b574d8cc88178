// Checkout for a paid plan. A user who already has a live subscription is never sold a second one: they get
// the Billing Portal instead (checked against Stripe itself, which may be ahead of our webhooks). URLs come
// from APP_URL, never from input.
import { z } from "zod";
import { env } from "@/lib/env";
import { ensureStripeCustomer, resolveBillingDeps, type BillingDeps } from "./customers";
import { paidPlanIds, plans, activeSubscriptionStatuses } from "./plans";
import { createPortalSession } from "./portal";
import { requirePriceId } from "./stripe-catalog";

export const checkoutInput = z.object({
  plan: z.enum(paidPlanIds, { error: `Choose one of the plans: ${paidPlanIds.join(", ")}.` }),
});

export type CheckoutResult = { url: string; kind: "checkout" | "portal" };

export async function createCheckoutSession(
  userId: string,
  input: z.infer<typeof checkoutInput>,
  partial: Partial<BillingDeps> = {},
): Promise<CheckoutResult> {
  const deps = await resolveBillingDeps(partial);
  const plan = plans[input.plan];
  const customer = await ensureStripeCustomer(userId, deps);

  const existing = await deps.stripe.subscriptions.list({ customer, status: "all", limit: 100 });
  if (existing.data.some((sub) => activeSubscriptionStatuses.has(sub.status))) {
    return { ...(await createPortalSession(userId, deps)), kind: "portal" };
  }

  const price = await requirePriceId(deps.stripe, plan.lookupKey);
  const session = await deps.stripe.checkout.sessions.create({
    mode: "subscription",
    customer,
    customer_update: { address: "auto", name: "auto" },
    line_items: [{ price, quantity: 1 }],
    billing_address_collection: "required",
    allow_promotion_codes: true,
    client_reference_id: userId,
    subscription_data: { metadata: { userId, plan: plan.id } },
    metadata: { userId, plan: plan.id },
    success_url: new URL("/account?checkout=success&session_id={CHECKOUT_SESSION_ID}", env.APP_URL).toString(),
    cancel_url: new URL("/pricing?checkout=canceled", env.APP_URL).toString(),
  });
  if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
  return { url: session.url, kind: "checkout" };
}

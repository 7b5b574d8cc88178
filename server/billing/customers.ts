// Exactly one Stripe customer per user, whatever the timing: a stored id wins; otherwise an existing
// customer tagged with our user id is reused; otherwise one is created under an idempotency key derived from
// the user id, and linked with a conditional update so concurrent callers converge on a single id.
// Safe to call from the post-sign-up hook, before Checkout and before the Portal.
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { linkStripeCustomer } from "@/db/queries/billing";
import { findUserById } from "@/db/queries/users";
import { env } from "@/lib/env";
import { AppError } from "@/server/errors";
import { getStripe } from "./stripe-client";

export interface BillingDeps {
  db: Db;
  stripe: Stripe;
  /** Where Checkout and the portal send the user back: APP_URL, or the caller's page origin (Context.appUrl). */
  appUrl: string;
}

export async function resolveBillingDeps(deps: Partial<BillingDeps> = {}): Promise<BillingDeps> {
  return { db: deps.db ?? (await getDb()), stripe: deps.stripe ?? getStripe(), appUrl: deps.appUrl ?? env.APP_URL };
}

export async function ensureStripeCustomer(userId: string, partial: Partial<BillingDeps> = {}): Promise<string> {
  const { db, stripe } = await resolveBillingDeps(partial);
  const user = await findUserById(db, userId);
  if (!user) throw new AppError("NOT_FOUND", "That account no longer exists.");
  if (user.stripeCustomerId) return user.stripeCustomerId;

  // Idempotency keys expire after about a day; a customer created earlier is found by its userId tag.
  const existing = await stripe.customers.list({ email: user.email, limit: 100 });
  const tagged = existing.data.find((customer) => customer.metadata?.userId === userId);
  const customer =
    tagged ??
    (await stripe.customers.create(
      { email: user.email, name: user.name ?? undefined, metadata: { userId } },
      { idempotencyKey: `hourglass-customer:${userId}` },
    ));

  const linked = await linkStripeCustomer(db, userId, customer.id);
  if (!linked) throw new AppError("NOT_FOUND", "That account no longer exists.");
  if (linked !== customer.id) {
    console.warn(`user ${userId} already had customer ${linked}; Stripe customer ${customer.id} is unused`);
  }
  return linked;
}

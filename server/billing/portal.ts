// Billing Portal sessions for the caller's own customer only, returning to /account.
import { env } from "@/lib/env";
import { ensureStripeCustomer, resolveBillingDeps, type BillingDeps } from "./customers";
import { requirePortalConfigurationId } from "./stripe-catalog";

export async function createPortalSession(userId: string, partial: Partial<BillingDeps> = {}): Promise<{ url: string }> {
  const deps = await resolveBillingDeps(partial);
  const customer = await ensureStripeCustomer(userId, deps);
  const session = await deps.stripe.billingPortal.sessions.create({
    customer,
    return_url: new URL("/account", env.APP_URL).toString(),
    configuration: await requirePortalConfigurationId(deps.stripe),
  });
  return { url: session.url };
}

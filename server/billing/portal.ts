// Billing Portal sessions for the caller's own customer only, returning to /account. The card-update flow opens the
// portal on the card form alone (a failed payment's fix) and comes back to /account once the card is saved.
import { z } from "zod";
import { ensureStripeCustomer, resolveBillingDeps, type BillingDeps } from "./customers";
import { requirePortalConfigurationId } from "./stripe-catalog";

export const portalInput = z
  .object({ flow: z.enum(["payment_method_update"], { error: "flow must be payment_method_update or left out." }).optional() })
  .strict()
  .optional();
export type PortalInput = z.infer<typeof portalInput>;

export async function createPortalSession(userId: string, input: PortalInput = {}, partial: Partial<BillingDeps> = {}): Promise<{ url: string }> {
  const deps = await resolveBillingDeps(partial);
  const customer = await ensureStripeCustomer(userId, deps);
  const returnUrl = new URL("/account", deps.appUrl).toString();
  const session = await deps.stripe.billingPortal.sessions.create({
    customer,
    return_url: returnUrl,
    configuration: await requirePortalConfigurationId(deps.stripe),
    ...(input?.flow === "payment_method_update"
      ? { flow_data: { type: "payment_method_update", after_completion: { type: "redirect", redirect: { return_url: `${returnUrl}?card=updated` } } } }
      : {}),
  });
  return { url: session.url };
}

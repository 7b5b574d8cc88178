// Creates, idempotently, what Hourglass needs in a Stripe account (test mode or the sandbox): one product and
// monthly price per paid plan, found again by lookup key, and the Billing Portal configuration that lets
// customers switch between those prices (downgrades at the period end), cancel, update their card and see invoices.
import type Stripe from "stripe";
import { paidPlans } from "./plans";
import { clearCatalogCache, findPortalConfigurationId, PORTAL_CONFIGURATION_TAG } from "./stripe-catalog";

export interface SetupReport {
  prices: Array<{ plan: string; lookupKey: string; priceId: string; created: boolean }>;
  portalConfigurationId: string;
}

export async function setupStripe(stripe: Stripe): Promise<SetupReport> {
  const prices: SetupReport["prices"] = [];
  for (const plan of paidPlans) {
    const found = await stripe.prices.list({ lookup_keys: [plan.lookupKey], active: true, limit: 1, expand: ["data.product"] });
    const existing = found.data[0];
    if (existing) {
      prices.push({ plan: plan.id, lookupKey: plan.lookupKey, priceId: existing.id, created: false });
      continue;
    }
    const product = await stripe.products.create(
      { name: `Hourglass ${plan.name}`, description: plan.description, metadata: { hourglassPlan: plan.id } },
      { idempotencyKey: `hourglass-product:${plan.id}:${plan.amountCents}` },
    );
    const price = await stripe.prices.create(
      {
        product: product.id,
        currency: "usd",
        unit_amount: plan.amountCents,
        recurring: { interval: "month" },
        lookup_key: plan.lookupKey,
        transfer_lookup_key: true,
        metadata: { hourglassPlan: plan.id },
      },
      { idempotencyKey: `hourglass-price:${plan.lookupKey}:${plan.amountCents}` },
    );
    prices.push({ plan: plan.id, lookupKey: plan.lookupKey, priceId: price.id, created: true });
  }
  clearCatalogCache();

  const products = await Promise.all(
    prices.map(async (entry) => {
      const price = await stripe.prices.retrieve(entry.priceId);
      return { product: typeof price.product === "string" ? price.product : price.product.id, prices: [entry.priceId] };
    }),
  );
  const features: Stripe.BillingPortal.ConfigurationCreateParams.Features = {
    customer_update: { enabled: true, allowed_updates: ["email", "address", "name"] },
    invoice_history: { enabled: true },
    payment_method_update: { enabled: true },
    subscription_cancel: { enabled: true, mode: "at_period_end" },
    subscription_update: {
      enabled: true,
      default_allowed_updates: ["price"],
      // An upgrade applies now (prorated, and the budget rises by the difference); a downgrade waits for the period
      // end, so a customer cannot take the bigger plan's budget into a cheaper one mid-period.
      proration_behavior: "create_prorations",
      products,
      schedule_at_period_end: { conditions: [{ type: "decreasing_item_amount" }] },
    },
  };
  const existingId = await findPortalConfigurationId(stripe);
  const configuration = existingId
    ? await stripe.billingPortal.configurations.update(existingId, { features })
    : await stripe.billingPortal.configurations.create({
        business_profile: { headline: "Hourglass: manage your subscription" },
        features,
        metadata: { [PORTAL_CONFIGURATION_TAG]: "portal" },
      });
  return { prices, portalConfigurationId: configuration.id };
}

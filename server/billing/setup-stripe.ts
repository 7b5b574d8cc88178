// Creates, idempotently, what Hourglass needs in a Stripe account (test mode or the sandbox): one product and
// a monthly and a yearly price per paid plan, a product and one-time price per credit pack, found again by lookup
// key, and the Billing Portal configuration that lets
// customers switch between those prices (downgrades at the period end), cancel, update their card and see invoices.
import type Stripe from "stripe";
import { billingIntervals, creditPacks, paidPlans, planPrice, type BillingInterval } from "./plans";
import { clearCatalogCache, findPortalConfigurationId, PORTAL_CONFIGURATION_TAG } from "./stripe-catalog";

export interface SetupReport {
  prices: Array<{ plan: string; interval: BillingInterval; lookupKey: string; priceId: string; created: boolean }>;
  packs: Array<{ pack: string; lookupKey: string; priceId: string; created: boolean }>;
  portalConfigurationId: string;
}

export async function setupStripe(stripe: Stripe): Promise<SetupReport> {
  const prices: SetupReport["prices"] = [];
  for (const plan of paidPlans) {
    let product: string | null = null;
    for (const interval of billingIntervals) {
      const { lookupKey, amountCents } = planPrice(plan, interval);
      // Both prices of a plan hang on one product (the portal lists a product's prices together).
      const price = await ensurePrice(stripe, {
        lookupKey,
        amountCents,
        recurring: { interval },
        metadata: { hourglassPlan: plan.id },
        product: async () =>
          (product ??= (
            await stripe.products.create(
              { name: `Hourglass ${plan.name}`, description: plan.description, metadata: { hourglassPlan: plan.id } },
              { idempotencyKey: `hourglass-product:${plan.id}:${plan.amountCents}` },
            )
          ).id),
      });
      product ??= price.product;
      prices.push({ plan: plan.id, interval, lookupKey, priceId: price.priceId, created: price.created });
    }
  }
  const packs: SetupReport["packs"] = [];
  for (const pack of Object.values(creditPacks)) {
    // A one-time price on a product of its own: packs are bought through Checkout in payment mode, not the portal.
    const price = await ensurePrice(stripe, {
      lookupKey: pack.lookupKey,
      amountCents: pack.amountCents,
      recurring: null,
      metadata: { hourglassPack: pack.id },
      product: async () =>
        (
          await stripe.products.create(
            { name: `Hourglass ${pack.name}`, description: "Extra chat tokens, spent after the monthly budget.", metadata: { hourglassPack: pack.id } },
            { idempotencyKey: `hourglass-pack-product:${pack.id}:${pack.amountCents}` },
          )
        ).id,
    });
    packs.push({ pack: pack.id, lookupKey: pack.lookupKey, priceId: price.priceId, created: price.created });
  }
  clearCatalogCache();

  const byProduct = new Map<string, string[]>();
  // The portal switches between plan prices only; pack prices stay out of it.
  for (const entry of prices) {
    const price = await stripe.prices.retrieve(entry.priceId);
    const product = typeof price.product === "string" ? price.product : price.product.id;
    byProduct.set(product, [...(byProduct.get(product) ?? []), entry.priceId]);
  }
  const products = [...byProduct].map(([product, ids]) => ({ product, prices: ids }));
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
  return { prices, packs, portalConfigurationId: configuration.id };
}

/** The active price with this lookup key, or a new one (on the product `product()` gives) when there is none. */
async function ensurePrice(
  stripe: Stripe,
  input: {
    lookupKey: string;
    amountCents: number;
    /** null: a one-time price. */
    recurring: { interval: BillingInterval } | null;
    metadata: Record<string, string>;
    product: () => Promise<string>;
  },
): Promise<{ priceId: string; product: string; created: boolean }> {
  const found = await stripe.prices.list({ lookup_keys: [input.lookupKey], active: true, limit: 1 });
  const existing = found.data[0];
  if (existing) {
    return { priceId: existing.id, product: typeof existing.product === "string" ? existing.product : existing.product.id, created: false };
  }
  const product = await input.product();
  const price = await stripe.prices.create(
    {
      product,
      currency: "usd",
      unit_amount: input.amountCents,
      ...(input.recurring ? { recurring: input.recurring } : {}),
      lookup_key: input.lookupKey,
      transfer_lookup_key: true,
      metadata: input.metadata,
    },
    { idempotencyKey: `hourglass-price:${input.lookupKey}:${input.amountCents}` },
  );
  return { priceId: price.id, product, created: true };
}

// Creates, idempotently, what Hourglass needs in a Stripe account (test mode or the sandbox): one product and
// a monthly and a yearly price per paid plan, a product and one-time price per credit pack, found again by lookup
// key, and the Billing Portal configuration that lets
// customers switch between those prices (downgrades at the period end), cancel, update their card and see invoices.
import type Stripe from "stripe";
import { env } from "@/lib/env";
import { OVERAGE_METER_EVENT, OVERAGE_TOKENS_PER_UNIT } from "./overage";
import { billingIntervals, creditPacks, paidPlans, planPrice, type BillingInterval, type PaidPlan } from "./plans";
import { clearCatalogCache, findPortalConfigurationId, PORTAL_CONFIGURATION_TAG } from "./stripe-catalog";

export interface SetupReport {
  prices: Array<{ plan: string; interval: BillingInterval; lookupKey: string; priceId: string; created: boolean }>;
  packs: Array<{ pack: string; lookupKey: string; priceId: string; created: boolean }>;
  portalConfigurationId: string;
  /** With overage on: the meter and each plan's metered overage price. */
  overage: { meterId: string; prices: Array<{ plan: string; lookupKey: string; priceId: string; created: boolean }> } | null;
}

export interface SetupOptions {
  /** Creates the overage meter and metered prices (default: BILLING_OVERAGE). */
  overage?: boolean;
}

export async function setupStripe(stripe: Stripe, options: SetupOptions = {}): Promise<SetupReport> {
  const prices: SetupReport["prices"] = [];
  const productOf = new Map<string, string>();
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
    if (product) productOf.set(plan.id, product);
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
  const overage = (options.overage ?? env.BILLING_OVERAGE) ? await setupOverage(stripe, productOf) : null;
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
      // An upgrade applies now and its prorated difference is invoiced and charged now (`create_prorations` would
      // leave it for the renewal invoice, while the budget rises at once); a downgrade waits for the period end, so a
      // customer cannot take the bigger plan's budget into a cheaper one mid-period.
      proration_behavior: "always_invoice",
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
  return { prices, packs, portalConfigurationId: configuration.id, overage };
}

/**
 * The overage meter (found again by its event name) and, on each paid plan's product, a monthly metered price billing
 * the meter's sum per started 1,000 tokens. The portal never lists these: they ride along with the plan's price.
 */
async function setupOverage(stripe: Stripe, productOf: ReadonlyMap<string, string>): Promise<NonNullable<SetupReport["overage"]>> {
  const meter = await ensureOverageMeter(stripe);
  const prices: NonNullable<SetupReport["overage"]>["prices"] = [];
  for (const plan of paidPlans) {
    const product = productOf.get(plan.id);
    if (!product) continue;
    prices.push({ plan: plan.id, ...(await ensureOveragePrice(stripe, plan, product, meter.id)) });
  }
  return { meterId: meter.id, prices };
}

async function ensureOverageMeter(stripe: Stripe): Promise<Stripe.Billing.Meter> {
  for await (const meter of stripe.billing.meters.list({ status: "active", limit: 100 })) {
    if (meter.event_name === OVERAGE_METER_EVENT) return meter;
  }
  return stripe.billing.meters.create(
    {
      display_name: "Hourglass tokens over budget",
      event_name: OVERAGE_METER_EVENT,
      default_aggregation: { formula: "sum" },
      customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
      value_settings: { event_payload_key: "value" },
    },
    { idempotencyKey: `hourglass-meter:${OVERAGE_METER_EVENT}` },
  );
}

async function ensureOveragePrice(stripe: Stripe, plan: PaidPlan, product: string, meter: string): Promise<{ lookupKey: string; priceId: string; created: boolean }> {
  const { lookupKey, centsPer1000Tokens } = plan.overage;
  const existing = (await stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 })).data[0];
  if (existing) return { lookupKey, priceId: existing.id, created: false };
  const price = await stripe.prices.create(
    {
      product,
      currency: "usd",
      unit_amount: centsPer1000Tokens,
      transform_quantity: { divide_by: OVERAGE_TOKENS_PER_UNIT, round: "up" },
      recurring: { interval: "month", usage_type: "metered", meter },
      lookup_key: lookupKey,
      transfer_lookup_key: true,
      nickname: `${plan.name} overage per 1,000 tokens`,
      metadata: { hourglassPlan: plan.id, hourglassOverage: "1" },
    },
    { idempotencyKey: `hourglass-price:${lookupKey}:${centsPer1000Tokens}:${meter}` },
  );
  return { lookupKey, priceId: price.id, created: true };
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

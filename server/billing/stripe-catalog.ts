// Finds the Stripe objects `npm run stripe:setup` created: prices by lookup key and the portal configuration
// by its metadata tag. Results are cached per process; they only change when setup runs again.
import type Stripe from "stripe";
import { AppError } from "@/server/errors";

export const PORTAL_CONFIGURATION_TAG = "hourglass";

const priceIds = new Map<string, string>();
const portalConfigurations = new WeakMap<Stripe, string>();

export async function requirePriceId(stripe: Stripe, lookupKey: string): Promise<string> {
  const cached = priceIds.get(lookupKey);
  if (cached) return cached;
  const prices = await stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 });
  const price = prices.data[0];
  if (!price) {
    throw new AppError("INTERNAL_SERVER_ERROR", "This plan is not set up in Stripe yet.", {
      cause: new Error(`no active price with lookup_key ${lookupKey}: run \`npm run stripe:setup\``),
    });
  }
  priceIds.set(lookupKey, price.id);
  return price.id;
}

export async function findPortalConfigurationId(stripe: Stripe): Promise<string | null> {
  const cached = portalConfigurations.get(stripe);
  if (cached) return cached;
  for await (const configuration of stripe.billingPortal.configurations.list({ active: true, limit: 100 })) {
    if (configuration.metadata?.[PORTAL_CONFIGURATION_TAG] === "portal") {
      portalConfigurations.set(stripe, configuration.id);
      return configuration.id;
    }
  }
  return null;
}

export async function requirePortalConfigurationId(stripe: Stripe): Promise<string> {
  const id = await findPortalConfigurationId(stripe);
  if (!id) {
    throw new AppError("INTERNAL_SERVER_ERROR", "The billing portal is not set up yet.", {
      cause: new Error("no portal configuration tagged by Hourglass: run `npm run stripe:setup`"),
    });
  }
  return id;
}

/** Forgets cached ids, after setup changed them. */
export function clearCatalogCache(): void {
  priceIds.clear();
}

// `npm run stripe:setup`: creates (idempotently) the plans' products and prices and the portal configuration
// in the Stripe the environment points at: STRIPE_SECRET_KEY's account, or the local sandbox. With BILLING_OVERAGE=1,
// also the overage meter and each plan's metered overage price.
import { env, usesStripeSandbox } from "../lib/env";
import { DEMO_PROMOTION_CODE, ensureDemoPromotionCode } from "../server/billing/demo-promotion";
import { setupStripe } from "../server/billing/setup-stripe";
import { createStripeClient } from "../server/billing/stripe-client";

const target = usesStripeSandbox() ? `the Stripe sandbox (${env.STRIPE_API_BASE ?? `port ${env.STRIPE_SANDBOX_PORT}`})` : "Stripe";
const fail = (error: unknown): never => {
  console.error(`Setup against ${target} failed: ${error instanceof Error ? error.message : String(error)}`);
  if (usesStripeSandbox()) console.error("Is the sandbox running? Start it with `npm run sandbox:stripe` (or `npm run dev`).");
  process.exit(1);
};
const report = await setupStripe(createStripeClient()).catch(fail);
// The sandbox also gets the demo promotion code; a real account keeps only what you create in its dashboard.
const demo = usesStripeSandbox() ? await ensureDemoPromotionCode(createStripeClient()).catch(fail) : null;

console.log(`Set up ${target}:`);
for (const price of report.prices) {
  console.log(`  ${price.plan.padEnd(8)} ${price.lookupKey} -> ${price.priceId}${price.created ? " (created)" : ""}`);
}
for (const pack of report.packs) {
  console.log(`  ${pack.pack.padEnd(8)} ${pack.lookupKey} -> ${pack.priceId}${pack.created ? " (created)" : ""}`);
}
console.log(`  portal   ${report.portalConfigurationId}`);
if (report.overage) {
  console.log(`  meter    ${report.overage.meterId} (metered overage, BILLING_OVERAGE=1)`);
  for (const price of report.overage.prices) {
    console.log(`  ${price.plan.padEnd(8)} ${price.lookupKey} -> ${price.priceId}${price.created ? " (created)" : ""}`);
  }
}
if (demo) console.log(`  promo    ${DEMO_PROMOTION_CODE} (20% off the first invoice) -> ${demo.promotionCode}`);
console.log("\nPrices are found by lookup key at run time; no price ids need copying. Make sure these are set:");
console.log("  STRIPE_SECRET_KEY      your sk_test_... key (unset = the local sandbox)");
console.log("  STRIPE_WEBHOOK_SECRET  from `npm run stripe:listen` or the dashboard's webhook endpoint");
console.log(`  APP_URL                ${env.APP_URL}`);

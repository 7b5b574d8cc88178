// `npm run stripe:setup`: creates (idempotently) the plans' products and prices and the portal configuration
// in the Stripe the environment points at: STRIPE_SECRET_KEY's account, or the local sandbox.
import { env, usesStripeSandbox } from "../lib/env";
import { setupStripe } from "../server/billing/setup-stripe";
import { createStripeClient } from "../server/billing/stripe-client";

const target = usesStripeSandbox() ? `the Stripe sandbox (${env.STRIPE_API_BASE ?? `port ${env.STRIPE_SANDBOX_PORT}`})` : "Stripe";
const report = await setupStripe(createStripeClient()).catch((error: unknown) => {
  console.error(`Setup against ${target} failed: ${error instanceof Error ? error.message : String(error)}`);
  if (usesStripeSandbox()) console.error("Is the sandbox running? Start it with `npm run sandbox:stripe` (or `npm run dev`).");
  process.exit(1);
});

console.log(`Set up ${target}:`);
for (const price of report.prices) {
  console.log(`  ${price.plan.padEnd(8)} ${price.lookupKey} -> ${price.priceId}${price.created ? " (created)" : ""}`);
}
console.log(`  portal   ${report.portalConfigurationId}`);
console.log("\nPrices are found by lookup key at run time; no price ids need copying. Make sure these are set:");
console.log("  STRIPE_SECRET_KEY      your sk_test_... key (unset = the local sandbox)");
console.log("  STRIPE_WEBHOOK_SECRET  from `npm run stripe:listen` or the dashboard's webhook endpoint");
console.log(`  APP_URL                ${env.APP_URL}`);

// `npm run stripe:resync`: re-syncs every user who has a Stripe customer from Stripe's current state, to
// recover from missed webhooks. Safe to run any time: the sync is idempotent.
import { closeDatabase, getDb } from "../db/index";
import { listUsersWithStripeCustomer } from "../db/queries/billing";
import { syncSubscriptionFromStripe } from "../server/billing/sync-subscription";

const db = await getDb();
const customers = await listUsersWithStripeCustomer(db);
let failed = 0;
for (const { id, stripeCustomerId } of customers) {
  try {
    const result = await syncSubscriptionFromStripe(stripeCustomerId, { db });
    const detail = result.outcome === "synced" ? `${result.state.subscriptionStatus ?? "no subscription"}` : result.outcome;
    console.log(`${id}  ${stripeCustomerId}  ${detail}`);
  } catch (error) {
    failed++;
    console.error(`${id}  ${stripeCustomerId}  FAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
}
console.log(`${customers.length - failed} synced, ${failed} failed`);
await closeDatabase();
process.exit(failed > 0 ? 1 : 0);

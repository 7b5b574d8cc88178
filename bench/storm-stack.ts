// The renewal storm (bench/storm.ts) on its own production server: 60 subscribers and a signed-in bystander, their
// purchases synced first (untimed), then three storms. Needs a real Postgres: the mismatch check reads the database
// while the server runs, which an embedded PGlite (one process at a time) cannot allow.
import http from "node:http";
import type Stripe from "stripe";
import { startBystander, type Bystander } from "./bystander";
import { BENCH_USER_PASSWORD, log, WEBHOOK_SECRET, type BenchContext } from "./context";
import { httpRequest, signIn } from "./http";
import { timed } from "./stats";
import { runStorm, STORM_SUBSCRIPTIONS, type StormResults } from "./storm";

export async function measureStorm(ctx: BenchContext): Promise<StormResults> {
  const { stripe, sandbox, app } = ctx;
  if (!ctx.realPostgres) throw new Error("The storm needs DATABASE_URL (a real Postgres): set it, or run --only=main.");
  log(`storm: creating ${STORM_SUBSCRIPTIONS} subscribers and a bystander`);
  await app.setupStripe(stripe);
  const price = (await stripe.prices.list({ lookup_keys: [app.plans.starter.lookupKey] })).data[0]?.id ?? "";
  const newest = (await stripe.events.list({ limit: 1 })).data[0]?.id;
  const database = await ctx.openAppDatabase();
  const subscribers: Array<{ userId: string; customerId: string }> = [];
  let bystanderEmail = "";
  for (let i = 0; i <= STORM_SUBSCRIPTIONS; i++) {
    const isBystander = i === STORM_SUBSCRIPTIONS;
    const email = `storm${i}-${Date.now()}@example.com`;
    const passwordHash = isBystander ? await app.hashPassword(BENCH_USER_PASSWORD) : "x";
    const user = await app.insertUser(database.db, { email, name: `Storm ${i}`, passwordHash, emailVerified: new Date() });
    const customer = await stripe.customers.create({ email, metadata: { userId: user.id } });
    await app.linkStripeCustomer(database.db, user.id, customer.id);
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price, quantity: 1 }],
      success_url: "http://127.0.0.1/account",
      client_reference_id: user.id,
    });
    await ctx.completeCheckout(session.id);
    if (isBystander) bystanderEmail = email;
    else subscribers.push({ userId: user.id, customerId: customer.id });
  }
  const setupEvents: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    if (event.id === newest) break;
    setupEvents.push(event);
  }
  setupEvents.reverse();

  log("storm: starting the production server (next start)");
  // Imported only now: the stack reads lib/env on import, which must see the bench's database (openBenchContext).
  const { startAppStack } = await import("../scripts/app-stack");
  const stack = await startAppStack({ appEnv: { DEMO_MODEL_DELAY_MS: "0" } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let bystander: Bystander | null = null;
  try {
    const post = (payload: string, signature: string) =>
      httpRequest(agent, "POST", `${stack.baseUrl}/api/webhooks/stripe`, payload, { "stripe-signature": signature }).then((r) => r.status);
    await timed(setupEvents.length, 8, async (index) => {
      const event = setupEvents[index];
      const payload = JSON.stringify({ ...event, id: `${event?.id}_setup` });
      return (await post(payload, stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }))) === 200;
    });
    const cookie = await signIn(stack.baseUrl, bystanderEmail, BENCH_USER_PASSWORD);
    bystander = startBystander(`${stack.baseUrl}/api/trpc/billing.status`, cookie);
    await bystander.sample(30); // warm-up
    return await runStorm({
      stripe,
      sandbox,
      webhookSecret: WEBHOOK_SECRET,
      postWebhook: post,
      bystander,
      customers: subscribers,
      mismatches: (customers) => ctx.findMismatches(database.db, customers),
      log,
    });
  } finally {
    await bystander?.close();
    agent.destroy();
    await stack.stop();
    await database.close();
  }
}

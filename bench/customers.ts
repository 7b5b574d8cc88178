// The main bench's customers: users in the app's database linked to sandbox customers with real histories
// (a Checkout, plan switches, renewals by test clock, cancellations), and the handled events those histories emitted.
import type Stripe from "stripe";
import { BENCH_USER_PASSWORD, log, type BenchContext } from "./context";

export interface BenchCustomer {
  userId: string;
  customerId: string;
  email: string;
}

/** Customer 0 stays subscribed (renewed, never cancelled) and can sign in with BENCH_USER_PASSWORD. */
export async function createCustomerHistories(ctx: BenchContext, count: number) {
  const { stripe, app } = ctx;
  log(`creating ${count} customers and their lifecycles in the sandbox`);
  await app.setupStripe(stripe);
  const prices = {
    starter: (await stripe.prices.list({ lookup_keys: [app.plans.starter.lookupKey] })).data[0]?.id ?? "",
    pro: (await stripe.prices.list({ lookup_keys: [app.plans.pro.lookupKey] })).data[0]?.id ?? "",
  };
  const database = await ctx.openAppDatabase();
  const customers: BenchCustomer[] = [];
  for (let i = 0; i < count; i++) {
    const passwordHash = i === 0 ? await app.hashPassword(BENCH_USER_PASSWORD) : "x";
    // Confirmed addresses: chat and Checkout are refused before that.
    const user = await app.insertUser(database.db, { email: `bench${i}-${Date.now()}@example.com`, name: `Bench ${i}`, passwordHash, emailVerified: new Date() });
    const customer = await stripe.customers.create({ email: user.email, metadata: { userId: user.id } });
    await app.linkStripeCustomer(database.db, user.id, customer.id);
    customers.push({ userId: user.id, customerId: customer.id, email: user.email });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: i % 2 ? prices.pro : prices.starter, quantity: 1 }],
      success_url: "http://127.0.0.1/account",
      client_reference_id: user.id,
    });
    await ctx.completeCheckout(session.id);
    const sub = app.pickCurrentSubscription((await stripe.subscriptions.list({ customer: customer.id, status: "all" })).data);
    if (!sub) throw new Error("checkout made no subscription");
    const item = sub.items.data[0];
    if (i % 3 === 0) await stripe.subscriptions.update(sub.id, { items: [{ id: item?.id, price: i % 2 ? prices.starter : prices.pro }] });
    if (i % 2 === 0) {
      const clock = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
      const clockId = typeof clock.test_clock === "string" ? clock.test_clock : (clock.test_clock?.id ?? "");
      await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: (item?.current_period_end ?? 0) + 86_400 });
      while ((await stripe.testHelpers.testClocks.retrieve(clockId)).status !== "ready") await new Promise((r) => setTimeout(r, 10));
    }
    if (i % 5 === 1) await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    if (i % 7 === 3) await stripe.subscriptions.cancel(sub.id);
  }
  await database.close();
  const events = (await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 })).filter(app.isHandledEvent);
  const mix: Record<string, number> = {};
  for (const event of events) mix[event.type] = (mix[event.type] ?? 0) + 1;
  log(`${events.length} handled events: ${JSON.stringify(mix)}`);
  return { customers, events, mix };
}

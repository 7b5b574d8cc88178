// Fault 1: Stripe delivers every event three times, in shuffled order, while 50 customers buy, change plan, renew
// through their test clocks (some renewals declined) and cancel. The database must end equal to the sandbox's
// truth for every customer, and each period's budget reset must apply exactly once.
import { describe, expect, it } from "vitest";
import { startBridgeBudgetStore, redisUrl } from "./bridge";
import { DAY_MS, startStripeHarness } from "../support/stripe-harness";
import { inBatches } from "./in-batches";

const bridge = redisUrl ? await startBridgeBudgetStore() : null;
const harness = await startStripeHarness();
const { getDb } = await import("@/db/index");
const { findUserById } = await import("@/db/queries/users");
const { stripeEvents } = await import("@/db/schema");
const { env } = await import("@/lib/env");
const { errorResponse } = await import("@/server/errors");
const { signUp } = await import("@/server/auth/sign-up");
const { ensureStripeCustomer } = await import("@/server/billing/customers");
const { createCheckoutSession } = await import("@/server/billing/checkout");
const { plans } = await import("@/server/billing/plans");
const { subscriptionState } = await import("@/server/billing/sync-subscription");
const { processStripeWebhook } = await import("@/server/billing/webhooks/process-webhook");
const { getBudgetStore } = await import("@/server/usage");
const { stripe } = harness;

const CUSTOMERS = 50;
const store = getBudgetStore();

// The app's own store, wrapped to count every reset call and every one that applied, per user and period.
const resetCalls = new Map<string, number>();
const resetsApplied = new Map<string, number>();
const countingStore = {
  ...store,
  async reset(userId: string, budget: number, periodEnd: Date) {
    const key = `${userId}|${periodEnd.getTime()}`;
    resetCalls.set(key, (resetCalls.get(key) ?? 0) + 1);
    const result = await store.reset(userId, budget, periodEnd);
    if (result.applied) resetsApplied.set(key, (resetsApplied.get(key) ?? 0) + 1);
    return result;
  },
};
// The route's own three lines, with the counting store passed through processStripeWebhook's dependency seam.
harness.setHandler(async (request) => {
  const rawBody = await request.text();
  try {
    const outcome = await processStripeWebhook(rawBody, request.headers.get("stripe-signature"), { budget: countingStore });
    return Response.json({ received: true, status: outcome.status });
  } catch (error) {
    return errorResponse(error);
  }
});

type PaidPlanId = "starter" | "pro";
interface Customer {
  index: number;
  userId: string;
  customerId: string;
  plan: PaidPlanId;
  renewalDeclined: boolean;
  periods: number[];
}

async function userRow(userId: string) {
  const row = await findUserById(await getDb(), userId);
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

async function spend(userId: string, tokens: number) {
  const requestId = `spend-${Math.random().toString(36).slice(2)}`;
  const reservation = await store.reserve(userId, requestId, tokens);
  expect(reservation.ok).toBe(true);
  await store.settle(userId, requestId, tokens);
}

async function priceId(plan: PaidPlanId) {
  const prices = await stripe.prices.list({ lookup_keys: [plans[plan].lookupKey] });
  const price = prices.data[0];
  if (!price) throw new Error(`no price for ${plan}`);
  return price.id;
}

describe("every event three times, shuffled, across 50 full lifecycles", () => {
  it("ends with the database equal to Stripe for every customer and one budget reset per period", async () => {
    const started = Date.now();
    await harness.faults({ duplicate: 3, shuffle: true });
    const customers: Customer[] = [];
    try {
      // Purchase: half starter, half pro.
      await inBatches(Array.from({ length: CUSTOMERS }, (_, i) => i), 10, async (index) => {
        const plan: PaidPlanId = index % 2 === 0 ? "starter" : "pro";
        const user = await signUp({ email: `shuffle${index}-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
        bridge?.track(user.id);
        const customerId = await ensureStripeCustomer(user.id);
        const checkout = await createCheckoutSession(user.id, { plan });
        expect(checkout.kind).toBe("checkout");
        await harness.completeCheckout(checkout.url);
        customers.push({ index, userId: user.id, customerId, plan, renewalDeclined: index % 5 === 4 && index % 3 !== 0, periods: [] });
      });
      await harness.idle();
      for (const customer of customers) {
        const sub = await harness.currentSubscription(customer.customerId);
        customer.periods.push((sub?.items.data[0]?.current_period_end ?? 0) * 1000);
      }
      await inBatches(customers, 10, (customer) => spend(customer.userId, 1_000));

      // A third switch plans (proration invoice: no refill); some others get a card that declines at renewal (not
      // the switchers: a downgrade's credit pays their renewal without a charge).
      const prices = { starter: await priceId("starter"), pro: await priceId("pro") };
      await inBatches(customers, 10, async (customer) => {
        const sub = await harness.currentSubscription(customer.customerId);
        if (!sub) throw new Error("no subscription after checkout");
        if (customer.index % 3 === 0) {
          customer.plan = customer.plan === "starter" ? "pro" : "starter";
          await stripe.subscriptions.update(sub.id, {
            items: [{ id: sub.items.data[0]?.id, price: prices[customer.plan] }],
            proration_behavior: "create_prorations",
          });
        }
        if (customer.renewalDeclined) {
          const declining = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customer.customerId });
          await stripe.customers.update(customer.customerId, { invoice_settings: { default_payment_method: declining.id } });
          await stripe.subscriptions.update(sub.id, { default_payment_method: declining.id });
        }
      });

      // Renewal through each customer's test clock.
      await inBatches(customers, 10, async (customer) => {
        await harness.advanceClock(customer.customerId, new Date((customer.periods[0] ?? 0) + DAY_MS));
      });
      await harness.idle();
      for (const customer of customers) {
        const sub = await harness.currentSubscription(customer.customerId);
        const end = (sub?.items.data[0]?.current_period_end ?? 0) * 1000;
        // A declined renewal still moves the period on (past_due) and earns its budget once, for the grace
        // (BILLING_GRACE_SECONDS from the invoice; these clocks run ahead of the wall clock, so all are within it).
        expect(end).toBeGreaterThan(customer.periods[0] ?? 0);
        customer.periods.push(end);
      }
      await inBatches(customers.filter((c) => !c.renewalDeclined), 10, (customer) => spend(customer.userId, 500));

      // Cancellation: at period end (classic), at a date (flexible mode, as the portal does it), immediately.
      await inBatches(customers, 10, async (customer) => {
        const sub = await harness.currentSubscription(customer.customerId);
        if (!sub) throw new Error("no subscription");
        if (customer.index % 4 === 1) await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
        if (customer.index % 4 === 2) await stripe.subscriptions.update(sub.id, { cancel_at: sub.items.data[0]?.current_period_end ?? 0 });
        if (customer.index % 4 === 3) await stripe.subscriptions.cancel(sub.id);
      });
      await harness.idle();
    } finally {
      await harness.faults({});
    }

    // Every delivery got a 2xx in the end: nothing was dropped or failed for good.
    expect(harness.answers.filter((answer) => answer.status >= 300)).toEqual([]);
    const processed = await (await getDb()).select({ id: stripeEvents.id }).from(stripeEvents);
    expect(harness.answers.length).toBeGreaterThanOrEqual(processed.length * 3);

    // The database equals the sandbox for every customer.
    const mismatches: string[] = [];
    for (const customer of customers) {
      const truth = await harness.currentSubscription(customer.customerId);
      if (!truth) throw new Error(`no subscription for ${customer.customerId}`);
      const { planExpires, ...expected } = subscriptionState(truth, env.BILLING_GRACE_SECONDS);
      const row = await userRow(customer.userId);
      // Every field the sync writes from the subscription (a new column joins the comparison by itself).
      const actual = Object.fromEntries(Object.keys(expected).map((field) => [field, row[field as keyof typeof row]]));
      try {
        expect(actual).toEqual(expected);
        expect(row.planExpires?.getTime()).toBe(planExpires?.getTime());
      } catch (error) {
        mismatches.push(`customer ${customer.index}: ${error instanceof Error ? error.message : String(error)}`);
      }
      // Spot checks that the lifecycle did what the test meant it to.
      if (customer.index % 4 === 3) expect(row.planActive).toBe(false);
      if (customer.renewalDeclined && customer.index % 4 !== 3 && row.subscriptionStatus !== "past_due") {
        const invoices = await stripe.invoices.list({ customer: customer.customerId, limit: 20 });
        mismatches.push(`declined renewal of customer ${customer.index} is ${row.subscriptionStatus}: ${JSON.stringify(invoices.data.map((i) => [i.billing_reason, i.status, i.amount_due]))}`);
      }
    }
    expect(mismatches).toEqual([]);

    // One applied reset per period, and no other: the purchase period, and the renewal period (paid, or in its grace).
    for (const customer of customers) {
      const applied = [...resetsApplied].filter(([key]) => key.startsWith(`${customer.userId}|`));
      expect(applied.map(([key, times]) => [Number(key.split("|")[1]), times]).sort()).toEqual(
        customer.periods.map((period) => [period, 1]).sort(),
      );
      const budget = await store.read(customer.userId);
      if (customer.renewalDeclined) {
        expect(budget?.tokensRemaining).toBe(plans[customer.plan].tokenBudget);
      } else {
        expect(budget?.tokensRemaining).toBe(plans[customer.plan].tokenBudget - 500);
      }
    }
    // Each period's several events (checkout, invoice.paid, invoice.payment_succeeded, subscription updates) all
    // reached the sync, but only the first asked the store: the period recorded on the user spared the rest.
    const calls = [...resetCalls.values()].reduce((sum, n) => sum + n, 0);
    const applied = [...resetsApplied.values()].reduce((sum, n) => sum + n, 0);
    expect(processed.length).toBeGreaterThan(2 * applied);
    expect(calls).toBe(applied);
    console.info(
      `[faults] ${CUSTOMERS} lifecycles: ${harness.answers.length} deliveries, ${processed.length} distinct events, ` +
        `${calls} reset calls, ${applied} applied, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});

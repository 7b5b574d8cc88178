// Yearly prices and trials, as Stripe does them: a yearly item's period is a year (anchor day kept, clamped); a trial
// starts `trialing` with a $0 first invoice and the cycle anchored at its end, sends a notice three days before it
// ends, then charges the full price (active), or is past due when that charge fails and canceled when the retries
// run out. Checked with the official client.
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, type Harness, completeCheckout, startHarness } from "./harness";

let h: Harness;
let monthly: Stripe.Price;
let yearly: Stripe.Price;

beforeAll(async () => {
  h = await startHarness({ autoTestClock: true });
  const product = await h.stripe.products.create({ name: "Starter" });
  monthly = await h.stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 900, recurring: { interval: "month" }, lookup_key: "starter_m" });
  yearly = await h.stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 9000, recurring: { interval: "year" }, lookup_key: "starter_y" });
});
afterAll(() => h.close());

const clockOf = (customer: Stripe.Customer) => {
  if (typeof customer.test_clock !== "string") throw new Error("customer has no test clock");
  return customer.test_clock;
};

let counter = 0;
async function checkout(price: Stripe.Price, subscriptionData: Stripe.Checkout.SessionCreateParams.SubscriptionData = {}) {
  const customer = await h.stripe.customers.create({ email: `yt${++counter}@example.com` });
  const session = await h.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    payment_method_collection: "always",
    subscription_data: subscriptionData,
    success_url: "https://app.test/account",
    cancel_url: "https://app.test/pricing",
  });
  const result = await completeCheckout(h.sandbox, session.id, { name: "Ada", address: { line1: "1 Way", city: "London", postal_code: "N1", country: "GB" } });
  expect(result.status).toBe(200);
  const subs = await h.stripe.subscriptions.list({ customer: customer.id, expand: ["data.latest_invoice"] });
  const sub = subs.data[0];
  if (!sub) throw new Error("no subscription");
  return { customer, sub };
}

describe("yearly prices", () => {
  it("bill a year: the item's period ends a year on, and the renewal a year after that", async () => {
    const { customer, sub } = await checkout(yearly);
    const item = sub.items.data[0];
    expect(item?.price.recurring).toMatchObject({ interval: "year", interval_count: 1 });
    const start = new Date((item?.current_period_start ?? 0) * 1000);
    const end = new Date((item?.current_period_end ?? 0) * 1000);
    const expected = new Date(start);
    expected.setUTCFullYear(start.getUTCFullYear() + 1);
    expect(end).toEqual(expected);
    expect((sub.latest_invoice as Stripe.Invoice).amount_paid).toBe(9000);
    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: (item?.current_period_end ?? 0) + 60 });
    const renewed = await h.stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]?.current_period_start).toBe(item?.current_period_end);
    const next = new Date(expected);
    next.setUTCFullYear(expected.getUTCFullYear() + 1);
    expect(renewed.items.data[0]?.current_period_end).toBe(next.getTime() / 1000);
  });

  it("refuses an unknown interval", async () => {
    await expect(
      h.stripe.prices.create({ currency: "usd", unit_amount: 1, product: monthly.product as string, recurring: { interval: "decade" as "year" } }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });
});

describe("trials", () => {
  it("start trialing with a $0 first invoice, trial_end the period end and the cycle's anchor", async () => {
    const { sub } = await checkout(monthly, { trial_period_days: 7 });
    expect(sub.status).toBe("trialing");
    expect(sub.trial_start).toBe(sub.created);
    expect(sub.trial_end).toBe(sub.created + 7 * DAY);
    expect(sub.billing_cycle_anchor).toBe(sub.trial_end);
    expect(sub.items.data[0]?.current_period_end).toBe(sub.trial_end);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ billing_reason: "subscription_create", status: "paid", amount_paid: 0, total: 0 });
    expect(invoice.lines.data[0]).toMatchObject({ amount: 0, description: "Trial period for Starter" });
    expect(invoice.lines.data[0]?.period.end).toBe(sub.trial_end);
  });

  it("end on the sandbox's end-trial control: active, the full price charged on a subscription_cycle invoice", async () => {
    const { customer, sub } = await checkout(monthly, { trial_period_days: 7 });
    const response = await fetch(`${h.sandbox.url}/_sandbox/test_clocks/${clockOf(customer)}/end-trial`, { method: "POST" });
    expect(response.status).toBe(200);
    const after = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(after.status).toBe("active");
    expect(after.items.data[0]?.current_period_start).toBe(sub.trial_end);
    const trialEnd = new Date((sub.trial_end ?? 0) * 1000);
    trialEnd.setUTCMonth(trialEnd.getUTCMonth() + 1);
    expect(after.items.data[0]?.current_period_end).toBe(trialEnd.getTime() / 1000);
    expect(after.latest_invoice).toMatchObject({ billing_reason: "subscription_cycle", status: "paid", amount_paid: 900 });
    // Nothing trialing is left on the clock.
    expect((await fetch(`${h.sandbox.url}/_sandbox/test_clocks/${clockOf(customer)}/end-trial`, { method: "POST" })).status).toBe(400);
  });

  it("send customer.subscription.trial_will_end three days before the trial ends, once", async () => {
    const { customer, sub } = await checkout(monthly, { trial_period_days: 7 });
    const trialEnd = sub.trial_end ?? 0;
    const notices = async () => {
      await h.sandbox.idle();
      return h.deliveries.filter((d) => d.event.type === "customer.subscription.trial_will_end" && (d.event.data.object as Stripe.Subscription).id === sub.id);
    };
    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: trialEnd - 4 * DAY });
    expect(await notices()).toHaveLength(0);
    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: trialEnd - 2 * DAY });
    const [notice] = await notices();
    expect(notice?.event.created).toBe(trialEnd - 3 * DAY);
    expect(notice?.event.data.object).toMatchObject({ status: "trialing", trial_end: trialEnd });
    await fetch(`${h.sandbox.url}/_sandbox/test_clocks/${clockOf(customer)}/end-trial`, { method: "POST" });
    expect(await notices()).toHaveLength(1);
  });

  it("can be ended from the admin page: an End trial button on a clock with a trialing subscription", async () => {
    const { customer, sub } = await checkout(monthly, { trial_period_days: 7 });
    const action = `/_sandbox/test_clocks/${clockOf(customer)}/end-trial`;
    expect(await (await fetch(`${h.sandbox.url}/`)).text()).toContain(`action="${action}"`);
    const response = await fetch(`${h.sandbox.url}${action}`, { method: "POST", body: new URLSearchParams({ from: "admin" }), redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");
    expect((await h.stripe.subscriptions.retrieve(sub.id)).status).toBe("active");
    expect(await (await fetch(`${h.sandbox.url}/`)).text()).not.toContain(`action="${action}"`);
  });

  it("end unpaid on a failing card: past_due, then canceled when the retries run out", async () => {
    const { customer, sub } = await checkout(monthly, { trial_period_days: 7 });
    const failing = await h.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customer.id });
    await h.stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    await fetch(`${h.sandbox.url}/_sandbox/test_clocks/${clockOf(customer)}/end-trial`, { method: "POST" });
    const pastDue = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(pastDue.status).toBe("past_due");
    expect(pastDue.latest_invoice).toMatchObject({ billing_reason: "subscription_cycle", status: "open", amount_paid: 0 });
    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: (sub.trial_end ?? 0) + 20 * DAY });
    expect((await h.stripe.subscriptions.retrieve(sub.id)).status).toBe("canceled");
  });

  it("are taken by subscriptions.create too, and refuse a bad length", async () => {
    const customer = await h.stripe.customers.create({ email: "api-trial@example.com" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 3 });
    expect(sub.status).toBe("trialing");
    await expect(
      h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 0 }),
    ).rejects.toMatchObject({ statusCode: 400, param: "trial_period_days" });
  });
});

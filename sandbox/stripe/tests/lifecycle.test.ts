// The whole subscription lifecycle through the official client: purchase, renewal, failed renewal, plan change,
// scheduled and immediate cancellation, with every event delivered, signed and in Stripe's order.
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DAY, type Harness, completeCheckout, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
});
afterAll(() => h.close());
beforeEach(async () => {
  await h.sandbox.idle();
  h.deliveries.length = 0;
});

const clockOf = (customer: Stripe.Customer) => {
  if (typeof customer.test_clock !== "string") throw new Error("customer has no test clock");
  return customer.test_clock;
};

async function buyViaCheckout(email: string, card?: string) {
  const customer = await h.stripe.customers.create({ email, metadata: { userId: email } });
  const session = await h.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    customer_update: { address: "auto", name: "auto" },
    billing_address_collection: "required",
    client_reference_id: email,
    line_items: [{ price: catalog.basic.id, quantity: 1 }],
    subscription_data: { metadata: { userId: email } },
    allow_promotion_codes: true,
    success_url: "https://app.test/account?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "https://app.test/pricing",
  });
  const result = await completeCheckout(h.sandbox, session.id, {
    card,
    email,
    name: "Ada Lovelace",
    address: { line1: "1 Analytical Way", city: "London", postal_code: "N1 9GU", country: "GB" },
  });
  return { customer, session, result };
}

describe("purchase", () => {
  it("completes a Checkout Session: subscription active, first invoice paid, address saved, events in Stripe's order", async () => {
    const { customer, session, result } = await buyViaCheckout("buyer@example.com");
    expect(result.status).toBe(200);
    expect(session.url).toMatch(new RegExp(`^${h.sandbox.url}/checkout/cs_test_`));
    expect(session.status).toBe("open");
    expect(session.payment_method_types).toEqual(["card"]);

    const done = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription", "subscription.latest_invoice"] });
    expect(done.status).toBe("complete");
    expect(done.payment_status).toBe("paid");
    expect(done.customer).toBe(customer.id);
    expect(done.client_reference_id).toBe("buyer@example.com");
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.id).toMatch(/^sub_/);
    expect(sub.status).toBe("active");
    expect(sub.metadata).toEqual({ userId: "buyer@example.com" });
    expect(sub.billing_mode.type).toBe("flexible");
    expect(sub.cancel_at_period_end).toBe(false);
    expect(sub).not.toHaveProperty("current_period_end");
    const item = sub.items.data[0];
    expect(item?.price.id).toBe(catalog.basic.id);
    expect(item?.current_period_end).toBeGreaterThan(item?.current_period_start ?? Infinity);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice.billing_reason).toBe("subscription_create");
    expect(invoice.status).toBe("paid");
    expect(invoice.amount_paid).toBe(1000);
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(invoice.lines.data[0]?.period).toEqual({ start: item?.current_period_start, end: item?.current_period_end });
    expect(invoice.hosted_invoice_url).toMatch(/\/invoice\/in_/);

    const saved = await h.stripe.customers.retrieve(customer.id);
    if (saved.deleted) throw new Error("customer deleted");
    expect(saved.address).toMatchObject({ line1: "1 Analytical Way", city: "London", postal_code: "N1 9GU", country: "GB" });
    expect(saved.name).toBe("Ada Lovelace");

    await h.sandbox.idle();
    const types = h.types().filter((t) => !t.startsWith("test_helpers") && t !== "customer.created");
    expect(types).toEqual([
      "customer.updated",
      "customer.subscription.created",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
      "checkout.session.completed",
    ]);
    const updated = h.deliveries.find((d) => d.event.type === "customer.updated")?.event;
    expect(updated?.data.previous_attributes).toEqual({ address: null, name: null });
    const completed = h.deliveries.find((d) => d.event.type === "checkout.session.completed")?.event;
    expect(completed?.api_version).toBe("2026-10-28.endive");
    expect(completed?.request?.id).toMatch(/^req_/);
    expect((completed?.data.object as Stripe.Checkout.Session).subscription).toBe(sub.id);
    // Snapshots are taken when the event is emitted: invoice.created shows a draft.
    const created = h.deliveries.find((d) => d.event.type === "invoice.created")?.event;
    expect((created?.data.object as Stripe.Invoice).status).toBe("draft");
  });

  it("declines 4000 0000 0000 0002 with a 402 card_error and creates nothing", async () => {
    const before = await h.stripe.subscriptions.list({ status: "all", limit: 100 });
    const { session, result } = await buyViaCheckout("declined@example.com", "4000000000000002");
    expect(result.status).toBe(402);
    expect(result.body).toMatchObject({ error: { type: "card_error", code: "card_declined", message: "Your card was declined." } });
    const after = await h.stripe.subscriptions.list({ status: "all", limit: 100 });
    expect(after.data.length).toBe(before.data.length);
    expect((await h.stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
  });

  it("creates the customer from customer_email when no customer is given", async () => {
    const session = await h.stripe.checkout.sessions.create({
      mode: "subscription",
      customer_email: "new@example.com",
      line_items: [{ price: catalog.pro.id, quantity: 1 }],
      success_url: "https://app.test/ok",
    });
    expect((await completeCheckout(h.sandbox, session.id)).status).toBe(200);
    const done = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ["customer"] });
    const customer = done.customer as Stripe.Customer;
    expect(customer.email).toBe("new@example.com");
    expect(customer.test_clock).toMatch(/^clock_/);
    await h.sandbox.idle();
    expect(h.types()).toContain("customer.created");
  });
});

describe("time, through test clocks", () => {
  it("holds at most three customers on one test clock, as Stripe does, and says so on the fourth", async () => {
    const clock = await h.stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) });
    for (let i = 0; i < 3; i++) await h.stripe.customers.create({ email: `clock${i}@example.com`, test_clock: clock.id });
    const fourth = await h.stripe.customers.create({ email: "clock3@example.com", test_clock: clock.id }).then(
      () => null,
      (error: Stripe.errors.StripeError) => error,
    );
    expect(fourth).toMatchObject({ statusCode: 400, param: "test_clock", message: expect.stringMatching(/at most 3 customers/) });
    expect((await h.stripe.customers.list({ test_clock: clock.id })).data).toHaveLength(3);
  });

  it("renews at each period end, anchored to the start day, with subscription_cycle invoices", async () => {
    const customer = await h.stripe.customers.create({ email: "renew@example.com", payment_method: "pm_card_visa", invoice_settings: { default_payment_method: "pm_card_visa" } });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }] });
    expect(sub.status).toBe("active");
    const firstEnd = sub.items.data[0]?.current_period_end ?? 0;
    await h.sandbox.idle();
    h.deliveries.length = 0;

    // Two periods in one advance.
    const secondEnd = (await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: firstEnd + 10 })).frozen_time;
    expect(secondEnd).toBe(firstEnd + 10);
    const clock = await h.stripe.testHelpers.testClocks.retrieve(clockOf(customer));
    expect(clock.status).toBe("ready");
    const renewed = await h.stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]?.current_period_start).toBe(firstEnd);
    const newEnd = renewed.items.data[0]?.current_period_end ?? 0;
    expect(new Date(newEnd * 1000).getUTCDate()).toBe(Math.min(new Date(firstEnd * 1000).getUTCDate(), new Date(newEnd * 1000).getUTCDate()));
    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: newEnd + 10 });

    const invoices = await h.stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => i.billing_reason)).toEqual(["subscription_cycle", "subscription_cycle", "subscription_create"]);
    expect(invoices.data.every((i) => i.status === "paid")).toBe(true);
    await h.sandbox.idle();
    const types = h.types();
    expect(types.filter((t) => t === "invoice.paid")).toHaveLength(2);
    expect(types[0]).toBe("test_helpers.test_clock.advancing");
    expect(types).toContain("test_helpers.test_clock.ready");
    const update = h.deliveries.find((d) => d.event.type === "customer.subscription.updated")?.event;
    const previous = update?.data.previous_attributes as { items?: { data?: Array<{ current_period_end?: number }> } } | undefined;
    expect(previous?.items?.data?.[0]?.current_period_end).toBe(firstEnd);
    const paid = h.deliveries.find((d) => d.event.type === "invoice.paid")?.event.data.object as Stripe.Invoice;
    expect(paid.billing_reason).toBe("subscription_cycle");
    expect(paid.lines.data[0]?.period.start).toBe(firstEnd);
  });

  it("fails a renewal on a declining card: invoice.payment_failed, invoice open, subscription past_due", async () => {
    const customer = await h.stripe.customers.create({ email: "fail@example.com" });
    const pm = await h.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customer.id });
    expect(pm.id).toMatch(/^pm_/);
    // The first payment happens on a good card; the declining one becomes the default afterwards.
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
    expect(sub.status).toBe("active");
    await h.stripe.subscriptions.update(sub.id, { default_payment_method: pm.id });
    await h.sandbox.idle();
    h.deliveries.length = 0;
    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: (sub.items.data[0]?.current_period_end ?? 0) + 60 });
    const after = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(after.status).toBe("past_due");
    const invoice = after.latest_invoice as Stripe.Invoice;
    expect(invoice.status).toBe("open");
    expect(invoice.billing_reason).toBe("subscription_cycle");
    expect(invoice.attempt_count).toBe(1);
    expect(invoice.next_payment_attempt).not.toBeNull();
    await h.sandbox.idle();
    expect(h.types()).toContain("invoice.payment_failed");
    const statusChange = h.deliveries.filter((d) => d.event.type === "customer.subscription.updated").at(-1)?.event;
    expect(statusChange?.data.previous_attributes).toMatchObject({ status: "active" });
    expect((statusChange?.data.object as Stripe.Subscription).status).toBe("past_due");
  });

  it("changes plan with a proration invoice (billing_reason subscription_update)", async () => {
    const customer = await h.stripe.customers.create({ email: "upgrade@example.com" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
    const item = sub.items.data[0];
    if (!item) throw new Error("no item");
    // Halfway through the period, upgrade.
    const half = item.current_period_start + Math.floor((item.current_period_end - item.current_period_start) / 2);
    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: half });
    await h.sandbox.idle();
    h.deliveries.length = 0;
    const updated = await h.stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: catalog.pro.id }],
      proration_behavior: "always_invoice",
      expand: ["latest_invoice"],
    });
    expect(updated.items.data[0]?.price.id).toBe(catalog.pro.id);
    expect(updated.items.data[0]?.current_period_end).toBe(item.current_period_end);
    const invoice = updated.latest_invoice as Stripe.Invoice;
    expect(invoice.billing_reason).toBe("subscription_update");
    expect(invoice.status).toBe("paid");
    expect(invoice.lines.data).toHaveLength(2);
    expect(invoice.lines.data.map((l) => Math.sign(l.amount))).toEqual([-1, 1]);
    // Half of (3000 - 1000), give or take rounding of the half period.
    expect(Math.abs(invoice.amount_paid - 1000)).toBeLessThanOrEqual(40);
    await h.sandbox.idle();
    expect(h.types()).toEqual([
      "customer.subscription.updated",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
    const event = h.deliveries[0]?.event;
    const previous = event?.data.previous_attributes as { items?: { data?: Array<{ price?: { id?: string } }> } } | undefined;
    expect(previous?.items?.data?.[0]?.price?.id).toBe(catalog.basic.id);
  });

  it("schedules a cancellation with cancel_at, clears it with '', and ends the subscription when the clock reaches it", async () => {
    const customer = await h.stripe.customers.create({ email: "leaver@example.com" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    const scheduled = await h.stripe.subscriptions.update(sub.id, { cancel_at: periodEnd });
    expect(scheduled.cancel_at).toBe(periodEnd);
    expect(scheduled.cancel_at_period_end).toBe(false);
    expect(scheduled.status).toBe("active");
    const cleared = await h.stripe.subscriptions.update(sub.id, { cancel_at: "" });
    expect(cleared.cancel_at).toBeNull();
    const atPeriodEnd = await h.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(atPeriodEnd.cancel_at_period_end).toBe(true);
    expect(atPeriodEnd.cancel_at).toBe(periodEnd);
    await h.sandbox.idle();
    h.deliveries.length = 0;

    await h.stripe.testHelpers.testClocks.advance(clockOf(customer), { frozen_time: periodEnd + 3 * DAY });
    const ended = await h.stripe.subscriptions.retrieve(sub.id);
    expect(ended.status).toBe("canceled");
    expect(ended.ended_at).toBe(periodEnd);
    const invoices = await h.stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data).toHaveLength(1);
    await h.sandbox.idle();
    expect(h.types()).toContain("customer.subscription.deleted");
    expect(h.types()).not.toContain("invoice.created");
    // Canceled subscriptions drop out of the default list.
    const listed = await h.stripe.subscriptions.list({ customer: customer.id });
    expect(listed.data).toHaveLength(0);
    const all = await h.stripe.subscriptions.list({ customer: customer.id, status: "canceled" });
    expect(all.data.map((s) => s.id)).toEqual([sub.id]);
  });

  it("cancels immediately with DELETE", async () => {
    const customer = await h.stripe.customers.create({ email: "now@example.com" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.pro.id }], default_payment_method: "pm_card_visa" });
    await h.sandbox.idle();
    h.deliveries.length = 0;
    const canceled = await h.stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe("canceled");
    expect(canceled.ended_at).not.toBeNull();
    expect(canceled.canceled_at).not.toBeNull();
    await h.sandbox.idle();
    expect(h.types()).toEqual(["customer.subscription.deleted"]);
    await expect(h.stripe.subscriptions.cancel(sub.id)).rejects.toMatchObject({ type: "StripeInvalidRequestError" });
  });

  it("deleting a test clock deletes its customers and their subscriptions", async () => {
    const clock = await h.stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) });
    const customer = await h.stripe.customers.create({ email: "clock@example.com", test_clock: clock.id });
    expect(customer.test_clock).toBe(clock.id);
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
    const deleted = await h.stripe.testHelpers.testClocks.del(clock.id);
    expect(deleted).toMatchObject({ id: clock.id, deleted: true });
    await expect(h.stripe.customers.retrieve(customer.id)).rejects.toMatchObject({ statusCode: 404 });
    await expect(h.stripe.subscriptions.retrieve(sub.id)).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("without automatic test clocks", () => {
  it("leaves customers on real time", async () => {
    const other = await startHarness({ autoTestClock: false });
    try {
      const customer = await other.stripe.customers.create({ email: "real@example.com" });
      expect(customer.test_clock).toBeNull();
      expect((await other.stripe.testHelpers.testClocks.list()).data).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

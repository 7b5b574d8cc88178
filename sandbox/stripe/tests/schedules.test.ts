// The portal's plan switch under `schedule_at_period_end`, as Stripe does it: a downgrade becomes a subscription
// schedule (no charge, no credit now) that switches the price at the renewal and is released a period later; an
// upgrade still applies at once and drops a scheduled downgrade; "keep" drops it too. Driven through the hosted pages
// with plain form posts and checked with the official client and the signed webhooks.
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDate } from "../engine";
import { DAY, type Harness, completeCheckout, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;
let configId: string;

beforeAll(async () => {
  h = await startHarness({ autoTestClock: true });
  catalog = await seedCatalog(h.stripe);
  const config = await h.stripe.billingPortal.configurations.create({
    features: {
      subscription_update: {
        enabled: true,
        default_allowed_updates: ["price"],
        proration_behavior: "create_prorations",
        products: [
          { product: catalog.basicProduct.id, prices: [catalog.basic.id] },
          { product: catalog.proProduct.id, prices: [catalog.pro.id] },
        ],
        schedule_at_period_end: { conditions: [{ type: "decreasing_item_amount" }] },
      },
    },
  });
  configId = config.id;
});
afterAll(() => h.close());

const post = (url: string, fields: Record<string, string>) =>
  fetch(url, { method: "POST", body: new URLSearchParams(fields), redirect: "manual" });

let counter = 0;
async function proSubscriber() {
  const customer = await h.stripe.customers.create({ email: `schedule${++counter}@example.com` });
  const session = await h.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: catalog.pro.id, quantity: 1 }],
    success_url: "https://app.test/ok",
  });
  expect((await completeCheckout(h.sandbox, session.id)).status).toBe(200);
  const [sub] = (await h.stripe.subscriptions.list({ customer: customer.id })).data;
  if (!sub) throw new Error("no subscription");
  const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: configId, return_url: "https://app.test/account" });
  return { customer, sub, portal };
}

async function advance(customer: Stripe.Customer, to: number) {
  const clock = typeof customer.test_clock === "string" ? customer.test_clock : customer.test_clock?.id;
  if (!clock) throw new Error("no test clock");
  await h.stripe.testHelpers.testClocks.advance(clock, { frozen_time: to });
  await h.sandbox.idle();
}

describe("portal downgrade at the period end", () => {
  it("keeps the config's conditions, as Stripe returns them", async () => {
    const config = await h.stripe.billingPortal.configurations.retrieve(configId);
    expect(config.features.subscription_update.schedule_at_period_end).toEqual({ conditions: [{ type: "decreasing_item_amount" }] });
    const cleared = await h.stripe.billingPortal.configurations.update(configId, {
      features: { subscription_update: { schedule_at_period_end: { conditions: "" } } },
    });
    expect(cleared.features.subscription_update.schedule_at_period_end).toEqual({ conditions: [] });
    const restored = await h.stripe.billingPortal.configurations.update(configId, {
      features: { subscription_update: { schedule_at_period_end: { conditions: [{ type: "decreasing_item_amount" }] } } },
    });
    expect(restored.features.subscription_update.schedule_at_period_end.conditions).toEqual([{ type: "decreasing_item_amount" }]);
    await expect(
      h.stripe.billingPortal.configurations.update(configId, {
        features: { subscription_update: { schedule_at_period_end: { conditions: [{ type: "bogus" as "decreasing_item_amount" }] } } },
      }),
    ).rejects.toThrow(/schedule_at_period_end\]\[conditions\]\[0\]\[type\]: must be one of decreasing_item_amount or shortening_interval/);
  });

  it("schedules the switch, charges nothing now, switches at the renewal and releases the schedule a period later", async () => {
    const { customer, sub, portal } = await proSubscriber();
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    const invoicesBefore = (await h.stripe.invoices.list({ customer: customer.id })).data.length;

    const preview = await (await post(`${portal.url}/switch`, { price: catalog.basic.id })).text();
    expect(preview).toContain(`Your plan changes to Basic on <strong>${formatDate(periodEnd)}</strong>`);
    expect(preview).not.toContain("proration-preview");
    const done = await post(`${portal.url}/switch`, { price: catalog.basic.id, confirm: "1" });
    expect(done.status).toBe(303);
    await h.sandbox.idle();

    const scheduled = await h.stripe.subscriptions.retrieve(sub.id);
    expect(scheduled.items.data[0]?.price.id).toBe(catalog.pro.id);
    expect(scheduled.items.data[0]?.current_period_end).toBe(periodEnd);
    expect(typeof scheduled.schedule).toBe("string");
    expect((await h.stripe.invoices.list({ customer: customer.id })).data).toHaveLength(invoicesBefore);
    const schedule = await h.stripe.subscriptionSchedules.retrieve(String(scheduled.schedule), { expand: ["phases.items.price"] });
    expect(schedule).toMatchObject({ status: "active", subscription: sub.id, end_behavior: "release", current_phase: { end_date: periodEnd } });
    expect(schedule.phases.map((phase) => [phase.start_date, (phase.items[0]?.price as Stripe.Price).id])).toEqual([
      [sub.items.data[0]?.current_period_start, catalog.pro.id],
      [periodEnd, catalog.basic.id],
    ]);
    const withSchedule = await h.stripe.subscriptions.list({ customer: customer.id, expand: ["data.schedule"] });
    expect((withSchedule.data[0]?.schedule as Stripe.SubscriptionSchedule).id).toBe(schedule.id);
    expect(h.types()).toContain("subscription_schedule.created");
    const portalPage = await (await fetch(portal.url)).text();
    expect(portalPage).toContain(`Switches to <strong>Basic</strong> on ${formatDate(periodEnd)}`);

    // The renewal bills the new price for the new period; the schedule moves to its second phase.
    await advance(customer, periodEnd + DAY);
    const renewed = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(renewed.items.data[0]?.price.id).toBe(catalog.basic.id);
    const invoice = renewed.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ billing_reason: "subscription_cycle", status: "paid", amount_paid: 1000 });
    expect(renewed.items.data[0]?.current_period_start).toBe(periodEnd);
    expect((await h.stripe.subscriptionSchedules.retrieve(schedule.id)).current_phase).toEqual({ start_date: periodEnd, end_date: renewed.items.data[0]?.current_period_end });
    expect(await (await fetch(portal.url)).text()).not.toContain("Switches to");

    // A period later the schedule has done its work and lets go of the subscription, which renews on Basic.
    await advance(customer, (renewed.items.data[0]?.current_period_end ?? 0) + DAY);
    const released = await h.stripe.subscriptionSchedules.retrieve(schedule.id);
    expect(released).toMatchObject({ status: "released", subscription: null, released_subscription: sub.id });
    const after = await h.stripe.subscriptions.retrieve(sub.id);
    expect(after.schedule).toBeNull();
    expect(after.items.data[0]?.price.id).toBe(catalog.basic.id);
    expect(h.types()).toContain("subscription_schedule.released");
  });

  it("keeps the plan when the customer changes their mind, and an upgrade applies at once", async () => {
    const { customer, sub, portal } = await proSubscriber();
    await post(`${portal.url}/switch`, { price: catalog.basic.id, confirm: "1" });
    const scheduleId = String((await h.stripe.subscriptions.retrieve(sub.id)).schedule);
    const kept = await post(`${portal.url}/keep`, {});
    expect(kept.status).toBe(303);
    expect((await h.stripe.subscriptionSchedules.retrieve(scheduleId)).status).toBe("released");
    expect((await h.stripe.subscriptions.retrieve(sub.id)).schedule).toBeNull();
    expect((await post(`${portal.url}/keep`, {})).status).toBe(400);

    // Now on Basic through the API (immediately), then back up to Pro in the portal: an upgrade is not scheduled.
    await h.stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]?.id, price: catalog.basic.id }], proration_behavior: "none" });
    await post(`${portal.url}/switch`, { price: catalog.pro.id, confirm: "1" });
    const upgraded = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(upgraded.items.data[0]?.price.id).toBe(catalog.pro.id);
    expect(upgraded.schedule).toBeNull();
    expect((upgraded.latest_invoice as Stripe.Invoice).billing_reason).toBe("subscription_update");
    expect((await h.stripe.subscriptionSchedules.list({ customer: customer.id })).data).toHaveLength(1);
  });

  it("cancels the schedule with the subscription, and refuses to release it afterwards", async () => {
    const { sub, portal } = await proSubscriber();
    await post(`${portal.url}/switch`, { price: catalog.basic.id, confirm: "1" });
    const scheduleId = String((await h.stripe.subscriptions.retrieve(sub.id)).schedule);
    await h.stripe.subscriptions.cancel(sub.id);
    expect((await h.stripe.subscriptionSchedules.retrieve(scheduleId)).status).toBe("canceled");
    await expect(h.stripe.subscriptionSchedules.release(scheduleId)).rejects.toThrow(/canceled/);
    await expect(h.stripe.subscriptionSchedules.retrieve("sub_sched_missing")).rejects.toThrow(/No such subscription_schedule/);
  });
});

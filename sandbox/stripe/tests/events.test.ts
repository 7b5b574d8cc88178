// `GET /v1/events?delivery_success=false`: the events some webhook endpoint has not acknowledged (pending or given up
// on), newest first, within Stripe's 30-day window, paginated like every Stripe list; driven with the official client
// while deliveries are paused, as `npm run stripe:replay` will use it after an outage.
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

let h: Harness;

const faults = async (body: Record<string, unknown>) => {
  const response = await fetch(`${h.sandbox.url}/_sandbox/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
};

beforeAll(async () => {
  // No auto test clock: every event is stamped with the wall clock, in creation order.
  h = await startHarness({ autoTestClock: false });
});
afterAll(() => h.close());

const DAY = 86_400;

describe("events with delivery_success", () => {
  it("lists only undelivered events, newest first, across pages, while deliveries are paused", async () => {
    await h.stripe.customers.create({ email: "before-pause@example.com" });
    await h.sandbox.idle();
    const deliveredBefore = (await h.stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    expect(deliveredBefore.length).toBeGreaterThan(0);

    await faults({ pauseDeliveries: true });
    const created: string[] = [];
    for (let i = 0; i < 23; i++) created.push((await h.stripe.customers.create({ email: `outage-${i}@example.com` })).id);

    // Pages of 10 through the client's auto-pagination, and by hand with starting_after.
    const undelivered = await h.stripe.events.list({ delivery_success: false, limit: 10 }).autoPagingToArray({ limit: 1_000 });
    expect(undelivered).toHaveLength(23);
    expect(undelivered.map((e) => (e.data.object as Stripe.Customer).id)).toEqual([...created].reverse());
    expect(undelivered.every((e) => e.type === "customer.created" && e.pending_webhooks === 1)).toBe(true);
    expect(undelivered.some((e) => deliveredBefore.includes(e.id))).toBe(false);
    const first = await h.stripe.events.list({ delivery_success: false, limit: 10 });
    expect(first.has_more).toBe(true);
    const second = await h.stripe.events.list({ delivery_success: false, limit: 10, starting_after: first.data.at(-1)?.id });
    const third = await h.stripe.events.list({ delivery_success: false, limit: 10, starting_after: second.data.at(-1)?.id });
    expect([first, second, third].map((page) => [page.data.length, page.has_more])).toEqual([[10, true], [10, true], [3, false]]);
    expect([...first.data, ...second.data, ...third.data].map((e) => e.id)).toEqual(undelivered.map((e) => e.id));
    // Newest first by creation time, too.
    const times = undelivered.map((e) => e.created);
    expect(times).toEqual([...times].sort((a, b) => b - a));

    // delivery_success=true lists the others; the filters combine with type.
    const ok = await h.stripe.events.list({ delivery_success: true, limit: 100 });
    expect(ok.data.map((e) => e.id).sort()).toEqual([...deliveredBefore].sort());
    expect((await h.stripe.events.list({ delivery_success: false, type: "invoice.*", limit: 100 })).data).toHaveLength(0);

    await faults({});
    await h.sandbox.idle();
    expect((await h.stripe.events.list({ delivery_success: false, limit: 100 })).data).toHaveLength(0);
    expect((await h.stripe.events.list({ delivery_success: true, limit: 100 })).data.length).toBe(deliveredBefore.length + 23);
  });

  it("counts an event as undelivered while any one endpoint has not acknowledged it", async () => {
    // A second endpoint that always fails, next to the harness's receiver that acknowledges everything.
    const failing = await h.stripe.webhookEndpoints.create({ url: "http://127.0.0.1:1/down", enabled_events: ["customer.updated"] });
    const customer = await h.stripe.customers.create({ email: "two-endpoints@example.com" });
    await h.stripe.customers.update(customer.id, { name: "Changed" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const undelivered = await h.stripe.events.list({ delivery_success: false, limit: 100 });
    expect(undelivered.data.map((e) => e.type)).toEqual(["customer.updated"]);
    expect(h.deliveries.some((d) => d.event.id === undelivered.data[0]?.id)).toBe(true);
    await h.stripe.webhookEndpoints.del(failing.id);
  });

  it("keeps to the last 30 days, and takes created[gte] for a replay's --since", async () => {
    const now = Math.floor(Date.now() / 1000);
    await faults({ pauseDeliveries: true });
    const oldClock = await h.stripe.testHelpers.testClocks.create({ frozen_time: now - 40 * DAY });
    const recentClock = await h.stripe.testHelpers.testClocks.create({ frozen_time: now - 10 * DAY });
    const old = await h.stripe.customers.create({ email: "old@example.com", test_clock: oldClock.id });
    const recent = await h.stripe.customers.create({ email: "recent@example.com", test_clock: recentClock.id });
    const listed = await h.stripe.events.list({ delivery_success: false, type: "customer.created", limit: 100 });
    const customers = listed.data.map((e) => (e.data.object as Stripe.Customer).id);
    expect(customers).toContain(recent.id);
    expect(customers).not.toContain(old.id);

    const since = await h.stripe.events.list({ delivery_success: false, type: "customer.created", created: { gte: now - 5 * DAY }, limit: 100 });
    expect(since.data.map((e) => (e.data.object as Stripe.Customer).id)).not.toContain(recent.id);
    const window = await h.stripe.events.list({ delivery_success: false, created: { gte: now - 11 * DAY, lt: now - 9 * DAY }, limit: 100 });
    expect(window.data.map((e) => e.type).sort()).toEqual(["customer.created", "test_helpers.test_clock.created"]);
    await expect(h.stripe.events.list({ created: { after: 1 } as unknown as Stripe.RangeQueryParam })).rejects.toMatchObject({ statusCode: 400, param: "created[after]" });
    await faults({});
    await h.sandbox.idle();
  });
});

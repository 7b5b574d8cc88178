// Webhook delivery: signatures, retries after failures, per-endpoint event filters and the fault switches the app's
// reliability tests use (duplicate, shuffle, pause).
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Harness, WEBHOOK_SECRET, startHarness } from "./harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
afterEach(async () => {
  await fetch(`${h.sandbox.url}/_sandbox/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  h.respond = () => 200;
  await h.sandbox.idle();
  h.deliveries.length = 0;
});

const faults = (body: object) =>
  fetch(`${h.sandbox.url}/_sandbox/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("webhook delivery", () => {
  it("signs every delivery the way constructEvent verifies, with a fresh timestamp", async () => {
    const customer = await h.stripe.customers.create({ email: "signed@example.com" });
    await h.sandbox.idle();
    const delivery = h.deliveries.find((d) => d.event.type === "customer.created");
    expect(delivery).toBeDefined();
    expect(delivery?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const verified = h.stripe.webhooks.constructEvent(delivery?.rawBody ?? "", delivery?.signature ?? "", WEBHOOK_SECRET);
    expect((verified.data.object as Stripe.Customer).id).toBe(customer.id);
    expect(() => h.stripe.webhooks.constructEvent(delivery?.rawBody ?? "", delivery?.signature ?? "", "whsec_wrong")).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const timestamp = Number(/t=(\d+)/.exec(delivery?.signature ?? "")?.[1]);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
    const event = await h.stripe.events.retrieve(delivery?.event.id ?? "");
    expect(event.pending_webhooks).toBe(0);
  });

  it("retries after the receiver answers 500, with backoff, until it answers 200", async () => {
    const seen: Array<{ id: string; at: number }> = [];
    h.respond = (_n, event) => {
      seen.push({ id: event.id, at: Date.now() });
      return seen.length <= 2 ? 500 : 200;
    };
    const customer = await h.stripe.customers.create({ email: "retry@example.com" }, { idempotencyKey: "retry-customer" });
    await h.sandbox.idle();
    const created = h.deliveries.find((d) => d.event.type === "customer.created")?.event;
    expect((created?.data.object as Stripe.Customer | undefined)?.id).toBe(customer.id);
    expect(created?.request?.idempotency_key).toBe("retry-customer");
    // Each event ends delivered exactly once, after the failed attempts.
    const ids = h.deliveries.map((d) => d.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    const failedFirst = seen[0]?.id;
    const attemptsOfFirst = seen.filter((s) => s.id === failedFirst);
    expect(attemptsOfFirst.length).toBeGreaterThanOrEqual(2);
    // The retry waited at least the backoff base (20 ms in this harness).
    expect((attemptsOfFirst[1]?.at ?? 0) - (attemptsOfFirst[0]?.at ?? 0)).toBeGreaterThanOrEqual(15);
    expect(ids).toContain(failedFirst);
    const event = await h.stripe.events.retrieve(failedFirst ?? "");
    expect(event.pending_webhooks).toBe(0);
  });

  it("gives up after maxAttempts and reports the event as not delivered", async () => {
    const stubborn = await startHarness({ maxAttempts: 3, retryBaseMs: 5 });
    try {
      let attempts = 0;
      stubborn.respond = () => {
        attempts++;
        return 503;
      };
      await stubborn.stripe.customers.create({ email: "never@example.com" }, { idempotencyKey: "never" });
      await stubborn.sandbox.idle();
      const failed = await stubborn.stripe.events.list({ delivery_success: false, limit: 100 });
      expect(failed.data.length).toBeGreaterThan(0);
      expect(failed.data.every((e) => e.pending_webhooks === 1)).toBe(true);
      expect(attempts).toBe(3 * failed.data.length);
      const admin = await (await fetch(`${stubborn.sandbox.url}/`)).text();
      expect(admin).toContain("failed after 3 attempts");
    } finally {
      await stubborn.close();
    }
  });

  it("duplicates and shuffles deliveries when the faults say so", async () => {
    await faults({ duplicate: 2, shuffle: true });
    const emails = Array.from({ length: 8 }, (_, i) => `dup${i}@example.com`);
    for (const email of emails) await h.stripe.customers.create({ email });
    await h.sandbox.idle();
    const created = h.deliveries.filter((d) => d.event.type === "customer.created");
    expect(created).toHaveLength(16);
    const counts = new Map<string, number>();
    for (const d of created) counts.set(d.event.id, (counts.get(d.event.id) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 2)).toBe(true);
    const order = created.map((d) => (d.event.data.object as Stripe.Customer).email);
    const sortedByCreation = [...order].sort((a, b) => emails.indexOf(a ?? "") - emails.indexOf(b ?? ""));
    // 16 deliveries in creation order by chance is vanishingly unlikely.
    expect(order).not.toEqual(sortedByCreation);
  });

  it("holds deliveries while paused and sends them in order when resumed", async () => {
    await faults({ pauseDeliveries: true });
    await h.stripe.customers.create({ email: "paused1@example.com" });
    await h.stripe.customers.create({ email: "paused2@example.com" });
    await new Promise((r) => setTimeout(r, 50));
    expect(h.deliveries).toHaveLength(0);
    const pending = await h.stripe.events.list({ delivery_success: false });
    expect(pending.data.length).toBeGreaterThanOrEqual(2);
    await faults({});
    const idle = await fetch(`${h.sandbox.url}/_sandbox/idle`);
    expect(await idle.json()).toEqual({ pending: 0 });
    const emails = h.deliveries.filter((d) => d.event.type === "customer.created").map((d) => (d.event.data.object as Stripe.Customer).email);
    expect(emails).toEqual(["paused1@example.com", "paused2@example.com"]);
  });

  it("sends API-created endpoints only the events they enabled, signed with their own secret", async () => {
    const received: Stripe.Event[] = [];
    let secret = "";
    const receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        received.push(h.stripe.webhooks.constructEvent(body, String(req.headers["stripe-signature"]), secret));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const endpoint = await h.stripe.webhookEndpoints.create({
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/only-customers`,
        enabled_events: ["customer.updated"],
      });
      secret = endpoint.secret ?? "";
      const customer = await h.stripe.customers.create({ email: "filter@example.com" });
      await h.stripe.customers.update(customer.id, { name: "Filtered" });
      await h.sandbox.idle();
      expect(received.map((e) => e.type)).toEqual(["customer.updated"]);
      expect(received[0]?.data.previous_attributes).toEqual({ name: null });
      await h.stripe.webhookEndpoints.del(endpoint.id);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it("resets all state", async () => {
    await h.stripe.customers.create({ email: "reset@example.com" });
    await h.sandbox.idle();
    const response = await fetch(`${h.sandbox.url}/_sandbox/reset`, { method: "POST" });
    expect(response.status).toBe(200);
    expect((await h.stripe.customers.list()).data).toHaveLength(0);
    expect((await h.stripe.events.list()).data).toHaveLength(0);
  });
});

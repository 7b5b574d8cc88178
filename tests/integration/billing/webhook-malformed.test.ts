// Correctly signed events that are not events Hourglass can apply: a malformed one is refused with 400 (Stripe stops
// retrying; a 500 would be retried for three days) and its reason logged on one line; one from the other mode
// (a live event at a test key, or the reverse) is ignored with 200 and logged. Posted to the real route handler.
import { count } from "drizzle-orm";
import Stripe from "stripe";
import { describe, expect, it, vi } from "vitest";
import { loadApp } from "../../support/load-app";
import { captureLogs } from "../../support/log-capture";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const { getDb, stripeEvents, processStripeWebhook } = await loadApp();
const { stripe, webhookSecret, postWebhook } = harness;

const sign = (payload: string) => stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });

function postSigned(payload: string) {
  return postWebhook(new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": sign(payload) } }));
}

async function eventCount() {
  const [row] = await (await getDb()).select({ value: count() }).from(stripeEvents);
  return row?.value ?? 0;
}

const subscription = { id: "sub_malformed", object: "subscription", customer: "cus_malformed", status: "active" };
const event = (overrides: Record<string, unknown>) =>
  JSON.stringify({ id: `evt_${crypto.randomUUID().replaceAll("-", "")}`, object: "event", type: "customer.subscription.updated", livemode: false, created: 1, data: { object: subscription }, ...overrides });

describe("a correctly signed but malformed event", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["no data", event({ data: undefined }), /without data$/],
    ["data: null", event({ data: null }), /without data$/],
    ["no data.object", event({ data: {} }), /without data\.object$/],
    ["data.object is a string", event({ data: { object: "sub_123" } }), /without data\.object$/],
    ["data.object is an array", event({ data: { object: [] } }), /without data\.object$/],
    ["the wrong object type", event({ data: { object: { id: "in_1", object: "invoice", customer: "cus_x" } } }), /carries object "invoice", not "subscription"$/],
    ["no object type", event({ type: "invoice.paid", data: { object: { id: "in_1", customer: "cus_x" } } }), /carries no object type, not "invoice"$/],
    ["no id", event({ id: undefined }), /event without an id$/],
    ["an empty id", event({ id: "" }), /event without an id$/],
    ["no type", event({ type: undefined }), /without a type$/],
    ["a numeric type", event({ type: 7 }), /without a type$/],
    ["a livemode that is not a boolean", event({ livemode: "false" }), /livemode that is not a boolean$/],
    ["an unhandled type without data", event({ type: "customer.created", data: undefined }), /without data$/],
    ["a JSON array", "[]", /not a JSON object$/],
    ["a JSON string", '"evt"', /not a JSON object$/],
    ["JSON null", "null", /not a JSON object$/],
  ];

  it.each(cases)("%s -> 400 with the reason, logged on one line, nothing recorded", async (_label, payload, reason) => {
    const before = await eventCount();
    const logs = captureLogs();
    const errored = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await postSigned(payload);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("BAD_REQUEST");
      expect(body.error.message.replace(/\.$/, "")).toMatch(reason);
      // One JSON line (a log line holds no newline) naming the reason; nothing at error level.
      expect(logs.at("warn")).toHaveLength(1);
      expect(logs.at("warn")[0]).toMatchObject({ msg: "stripe webhook processed", outcome: "refused" });
      expect(String(logs.at("warn")[0]?.reason).replace(/\.$/, "")).toMatch(reason);
      expect(logs.at("error")).toEqual([]);
      expect(errored).not.toHaveBeenCalled();
    } finally {
      logs.restore();
      errored.mockRestore();
    }
    expect(await eventCount()).toBe(before);
  });
});

describe("an event from the other Stripe mode", () => {
  it("a live-mode event at a test key -> 200 ignored and logged, nothing recorded or synced", async () => {
    const before = await eventCount();
    const logs = captureLogs();
    try {
      const payload = event({ livemode: true });
      const response = await postSigned(payload);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true, status: "ignored" });
      expect(logs.at("warn")).toEqual([
        expect.objectContaining({ msg: "stripe webhook ignored: the event's mode is not the secret key's", eventMode: "live", keyMode: "test" }),
      ]);
    } finally {
      logs.restore();
    }
    expect(await eventCount()).toBe(before);
  });

  it("a test-mode event at a live key is ignored too, before Stripe is read", async () => {
    const before = await eventCount();
    const logs = captureLogs();
    const unreachable = new Stripe("sk_live_unused", { host: "127.0.0.1", port: 1, protocol: "http", maxNetworkRetries: 0 });
    try {
      const payload = event({});
      const outcome = await processStripeWebhook(payload, sign(payload), { livemode: true, stripe: unreachable, webhookSecret });
      expect(outcome).toMatchObject({ status: "ignored", reason: "other-mode" });
      expect(logs.at("warn")[0]).toMatchObject({ eventMode: "test", keyMode: "live" });
    } finally {
      logs.restore();
    }
    expect(await eventCount()).toBe(before);
  });

  it("an event of the key's own mode is still processed (an unknown customer: recorded, 200)", async () => {
    const before = await eventCount();
    const logs = captureLogs();
    try {
      const response = await postSigned(event({ data: { object: { ...subscription, customer: "cus_nobody_here" } } }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true, status: "processed" });
    } finally {
      logs.restore();
    }
    expect(await eventCount()).toBe(before + 1);
  });
});

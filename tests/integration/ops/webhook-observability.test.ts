// One webhook through the real route handler, seen the way an operator sees it: the X-Request-Id it answers with,
// the "stripe webhook processed" log line carrying that id, and the spans (the webhook, each Stripe call under it,
// the budget refill) in an in-memory exporter installed by the same installTracing() that production uses.
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { captureLogs } from "../../support/log-capture";
import { startStripeHarness } from "../../support/stripe-harness";

// The harness points the app's environment at its sandbox, so app modules (tracing.ts reads lib/env) load after it.
const harness = await startStripeHarness();
const { installTracing } = await import("@/server/ops/tracing");
const exporter = new InMemorySpanExporter();
installTracing([new SimpleSpanProcessor({ exporter })], "hourglass-test");
const { signUp, ensureStripeCustomer, createCheckoutSession, findUserById, getDb, startChat, errorResponse } = await loadApp();
const { stripe, webhookSecret, postWebhook } = harness;

const sign = (payload: string) => stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });

/** A paid subscription whose events the sandbox holds back (deliveries paused), and its invoice.paid event. */
async function paidSubscription() {
  const user = await signUp({ email: `otel${Date.now()}${Math.random()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
  const customerId = await ensureStripeCustomer(user.id);
  await harness.faults({ pauseDeliveries: true });
  const checkout = await createCheckoutSession(user.id, { plan: "starter" });
  await harness.completeCheckout(checkout.url);
  const events = await stripe.events.list({ type: "invoice.paid", limit: 100 });
  const event = events.data.find((candidate) => JSON.stringify(candidate.data.object).includes(customerId));
  if (!event) throw new Error("no invoice.paid event");
  return { user, customerId, event, payload: JSON.stringify(event) };
}

const attr = (span: ReadableSpan | undefined, name: string) => span?.attributes[name];

describe("observability of one webhook", () => {
  it("answers with the caller's request id, logs it with the event, and traces the webhook, its Stripe calls and the refill", async () => {
    const { user, event, payload } = await paidSubscription();
    try {
      exporter.reset();
      const logs = captureLogs();
      let response: Response;
      try {
        response = await postWebhook(
          new Request("http://app/api/webhooks/stripe", {
            method: "POST",
            body: payload,
            headers: { "stripe-signature": sign(payload), "x-request-id": "lb-7f3a.2" },
          }),
        );
      } finally {
        logs.restore();
      }
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true, status: "processed" });
      expect(response.headers.get("x-request-id")).toBe("lb-7f3a.2");
      expect((await findUserById(await getDb(), user.id))?.planActive).toBe(true);

      // The log line.
      const processed = logs.lines.filter((line) => line.msg === "stripe webhook processed");
      expect(processed).toEqual([
        expect.objectContaining({
          level: "info",
          requestId: "lb-7f3a.2",
          eventId: event.id,
          type: "invoice.paid",
          outcome: "processed",
          detail: "synced",
          durationMs: expect.any(Number),
          traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
        }),
      ]);

      // The spans: the webhook, with its event and outcome ...
      const spans = exporter.getFinishedSpans();
      const webhook = spans.find((span) => span.name === "stripe.webhook");
      expect(webhook?.attributes).toMatchObject({
        "stripe.event_id": event.id,
        "stripe.event_type": "invoice.paid",
        "hourglass.webhook.outcome": "processed",
        "hourglass.request_id": "lb-7f3a.2",
      });
      expect(webhook?.spanContext().traceId).toBe(processed[0]?.traceId);
      const traceId = webhook?.spanContext().traceId;
      const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);
      // ... each Stripe call the sync made, in the same trace, with the status and Stripe's request id ...
      const stripeCalls = inTrace.filter((span) => span.name.startsWith("stripe GET "));
      expect(stripeCalls.length).toBeGreaterThan(0);
      for (const call of stripeCalls) {
        expect(attr(call, "http.response.status_code")).toBe(200);
        expect(attr(call, "url.template")).not.toMatch(/cus_|sub_|in_/);
        expect(attr(call, "hourglass.request_id")).toBe("lb-7f3a.2");
      }
      // ... and the budget refill of the paid period.
      const refill = inTrace.find((span) => span.name === "budget.reset");
      expect(refill?.attributes).toMatchObject({ "hourglass.user_id": user.id, "budget.applied": true, "hourglass.request_id": "lb-7f3a.2" });
    } finally {
      await harness.faults({});
      await harness.idle();
    }
  });

  it("replaces an unsafe incoming request id with a new one, and still logs a refused delivery with it", async () => {
    exporter.reset();
    const logs = captureLogs();
    let response: Response;
    try {
      response = await postWebhook(
        new Request("http://app/api/webhooks/stripe", {
          method: "POST",
          body: '{"id":"evt_forged","type":"invoice.paid"}',
          headers: { "stripe-signature": "t=1,v1=00", "x-request-id": `${"x".repeat(65)}` },
        }),
      );
    } finally {
      logs.restore();
    }
    expect(response.status).toBe(400);
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.at("warn")).toEqual([
      expect.objectContaining({ msg: "stripe webhook processed", outcome: "refused", unverified: true, eventId: "evt_forged", requestId }),
    ]);
    const webhook = exporter.getFinishedSpans().find((span) => span.name === "stripe.webhook");
    expect(webhook?.attributes).toMatchObject({ "hourglass.webhook.outcome": "refused", "hourglass.request_id": requestId });
    expect(webhook?.status.code).toBe(2); // ERROR
  });

  it("traces a chat: reserve, the chat span with model, tokens and charge, then settle", async () => {
    const { createDemoModel } = await import("@/server/chat/demo-model");
    const { createMemoryBudgetStore } = await import("@/server/usage");
    const store = createMemoryBudgetStore();
    const userId = `otel-chat-${Date.now()}`;
    const periodEndsAt = new Date(Date.now() + 3_600_000);
    await store.reset(userId, 10_000, periodEndsAt);
    exporter.reset();
    const request = new Request("http://app/api/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ id: "m", role: "user", parts: [{ type: "text", text: "hello" }] }] }),
    });
    const response = await startChat(request, { userId }, {
      store,
      model: createDemoModel({ delayMs: 0 }),
      getEntitlement: async () => ({ active: true, tokenBudget: 10_000, periodEndsAt, models: ["small"] }),
      restoreBudget: async () => {},
    }).catch((error: unknown) => errorResponse(error));
    expect(response.status).toBe(200);
    await response.text();

    const spans = exporter.getFinishedSpans();
    const chat = spans.find((span) => span.name === "chat");
    const reserve = spans.find((span) => span.name === "budget.reserve");
    const settle = spans.find((span) => span.name === "budget.settle");
    expect(chat?.attributes).toMatchObject({
      "gen_ai.request.model": "small",
      "hourglass.user_id": userId,
      "chat.tokens_reserved": attr(reserve, "budget.granted"),
    });
    const charged = attr(chat, "chat.tokens_charged");
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBe(Number(attr(chat, "gen_ai.usage.input_tokens")) + Number(attr(chat, "gen_ai.usage.output_tokens")));
    expect(attr(settle, "budget.actual_tokens")).toBe(charged);
    expect(attr(chat, "budget.tokens_remaining")).toBe(10_000 - Number(charged));
    expect((await store.read(userId))?.tokensRemaining).toBe(10_000 - Number(charged));
  });
});

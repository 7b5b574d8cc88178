// Stripe's pace in the sandbox (latency, jitter, a rate limit answered with 429 rate_limit), and the app's Stripe
// client backing off through its own retries until every call goes through.
import Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { startStripeSandbox } from "@/sandbox/stripe";
import { createStripeClient } from "@/server/billing/stripe-client";

const sandbox = await startStripeSandbox({ port: 0, throttle: { latencyMs: 30, latencyJitterMs: 20, rateLimit: 10 } });
afterAll(() => sandbox.close());

describe("the sandbox at Stripe's pace", () => {
  it("refuses requests beyond the rate limit as Stripe does: 429, rate_limit, retryable", async () => {
    const answers = await Promise.all(
      Array.from({ length: 15 }, () =>
        fetch(`${sandbox.url}/v1/customers?limit=1`, { headers: { authorization: "Bearer sk_test_pace" } }),
      ),
    );
    const limited = answers.filter((answer) => answer.status === 429);
    // The bucket holds 10 and refills at 10/s while the burst is sent.
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(10);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    expect(limited[0]?.headers.get("stripe-should-retry")).toBe("true");
    expect(await limited[0]?.json()).toMatchObject({ error: { type: "invalid_request_error", code: "rate_limit" } });
    // The stripe package classifies it as a rate limit error when it does not retry.
    const noRetries = new Stripe("sk_test_pace", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });
    const burst = await Promise.allSettled(Array.from({ length: 15 }, () => noRetries.customers.list({ limit: 1 })));
    const refused = burst.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason as unknown] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((error) => error instanceof Stripe.errors.StripeRateLimitError)).toBe(true);
  });

  it("answers after the configured latency", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // a full bucket again
    const started = performance.now();
    const answer = await fetch(`${sandbox.url}/v1/customers?limit=1`, { headers: { authorization: "Bearer sk_test_pace" } });
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(9);
  });

  it("lets 30 concurrent calls through the app's client all succeed under a 10/s limit, by backing off", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const stripe = createStripeClient({ secretKey: "sk_test_pace", apiBase: sandbox.url, maxNetworkRetries: 5 });
    const before = sandbox.apiRequests("POST", "/v1/customers");
    const started = performance.now();
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => stripe.customers.create({ email: `pace${i}@example.com` })));
    expect(new Set(created.map((customer) => customer.id)).size).toBe(30);
    // Refused calls were retried after the client's backoff (0.5 s at least), and each create ran exactly once.
    expect(performance.now() - started).toBeGreaterThan(500);
    expect(sandbox.apiRequests("POST", "/v1/customers") - before).toBe(30);
    const listed = await stripe.customers.list({ limit: 100 });
    expect(listed.data.filter((customer) => customer.email?.startsWith("pace")).length).toBe(30);
  });
});

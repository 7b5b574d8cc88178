// The billing and fault suites' bench: the Stripe sandbox in-process, delivering signed webhooks over HTTP to a
// receiver that hands each one to the real route handler (or a test's own handler built on processStripeWebhook)
// and records every answer. The app's environment points at the sandbox before any app module loads, so start
// this first and import app code dynamically afterwards. Each test file gets its own sandbox and database.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll } from "vitest";
import { startStripeSandbox, type StripeSandbox } from "../../sandbox/stripe";

export const WEBHOOK_SECRET = "whsec_stripe_harness_secret";
export const DAY_MS = 24 * 60 * 60 * 1000;

export interface DeliveryAnswer {
  eventId: string;
  type: string;
  status: number;
}

export type WebhookHandler = (request: Request) => Promise<Response>;

export async function startStripeHarness(options: { retryBaseMs?: number; maxAttempts?: number } = {}) {
  let handler: WebhookHandler | null = null;
  const answers: DeliveryAnswer[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      const request = new Request(`http://127.0.0.1${req.url ?? "/"}`, { method: "POST", headers, body });
      let eventId = "?";
      let type = "?";
      try {
        const parsed = JSON.parse(body.toString("utf8")) as { id?: string; type?: string };
        eventId = parsed.id ?? "?";
        type = parsed.type ?? "?";
      } catch {
        // recorded as "?"
      }
      (handler ? handler(request) : Promise.resolve(new Response("not ready", { status: 503 })))
        .catch((error: unknown) => new Response(String(error), { status: 500 }))
        .then(async (response) => {
          answers.push({ eventId, type, status: response.status });
          res.writeHead(response.status, { "content-type": "application/json" });
          res.end(await response.text());
        });
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhooks/stripe`;

  const sandbox: StripeSandbox = await startStripeSandbox({
    port: 0,
    webhooks: [{ url: receiverUrl, secret: WEBHOOK_SECRET }],
    retryBaseMs: options.retryBaseMs ?? 20,
    maxAttempts: options.maxAttempts ?? 8,
    autoTestClock: true,
  });
  process.env.STRIPE_API_BASE = sandbox.url;
  process.env.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET;
  process.env.STRIPE_MAX_NETWORK_RETRIES = "0";

  const route = await import("@/app/api/webhooks/stripe/route");
  handler = route.POST;

  const stripe = new Stripe("sk_test_stripe_harness", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });
  const { setupStripe } = await import("@/server/billing/setup-stripe");
  await setupStripe(stripe);

  afterAll(async () => {
    await sandbox.close();
    await new Promise<void>((resolve) => {
      receiver.close(() => resolve());
      receiver.closeAllConnections();
    });
  });

  const harness = {
    sandbox,
    stripe,
    answers,
    webhookSecret: WEBHOOK_SECRET,
    /** The real webhook route handler, for posting hand-made deliveries. */
    postWebhook: route.POST,
    setHandler(next: WebhookHandler) {
      handler = next;
    },
    idle: () => sandbox.idle(),
    faults: (body: Record<string, unknown>) =>
      fetch(`${sandbox.url}/_sandbox/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    /** The cardholder disputes a paid charge now (a chargeback after the fact); answers the sandbox's status. */
    async disputeCharge(chargeId: string): Promise<number> {
      const response = await fetch(`${sandbox.url}/_sandbox/charges/${encodeURIComponent(chargeId)}/dispute`, { method: "POST" });
      await response.arrayBuffer();
      return response.status;
    },
    /** Completes a hosted Checkout as a customer would; returns the sandbox's answer (402 for a declined card). */
    async attemptCheckout(checkoutUrl: string, card = "4242424242424242"): Promise<{ status: number }> {
      const id = new URL(checkoutUrl).pathname.split("/").pop() ?? "";
      const response = await fetch(`${sandbox.url}/_sandbox/checkout/sessions/${id}/complete`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          card,
          name: "Ada Lovelace",
          "address[line1]": "1 Analytical Way",
          "address[city]": "London",
          "address[postal_code]": "N1 7AA",
          "address[country]": "GB",
        }),
      });
      await response.arrayBuffer();
      return { status: response.status };
    },
    /** Completes a hosted Checkout that must succeed. */
    async completeCheckout(checkoutUrl: string, card = "4242424242424242"): Promise<void> {
      const { status } = await harness.attemptCheckout(checkoutUrl, card);
      if (status >= 400) throw new Error(`checkout completion answered ${status}`);
    },
    /** Ends the trials of the customer's test clock now (the sandbox's control): the first real invoice is charged. */
    async endTrial(customerId: string): Promise<void> {
      const customer = await stripe.customers.retrieve(customerId);
      if (customer.deleted || typeof customer.test_clock !== "string") throw new Error(`customer ${customerId} has no test clock`);
      const response = await fetch(`${sandbox.url}/_sandbox/test_clocks/${customer.test_clock}/end-trial`, { method: "POST" });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`ending the trial answered ${response.status}`);
    },
    async advanceClock(customerId: string, to: Date) {
      const customer = await stripe.customers.retrieve(customerId);
      if (customer.deleted || !customer.test_clock) throw new Error(`customer ${customerId} has no test clock`);
      const clockId = typeof customer.test_clock === "string" ? customer.test_clock : customer.test_clock.id;
      await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: Math.floor(to.getTime() / 1000) });
      for (let i = 0; i < 200; i++) {
        const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
        if (clock.status === "ready") return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`test clock ${clockId} never became ready`);
    },
    /** The subscription that decides access, as the app picks it, straight from the sandbox. */
    async currentSubscription(customerId: string) {
      const { pickCurrentSubscription } = await import("@/server/billing/sync-subscription");
      const list = await stripe.subscriptions.list({ customer: customerId, status: "all", limit: 100 });
      return pickCurrentSubscription(list.data);
    },
  };
  return harness;
}

export type StripeHarness = Awaited<ReturnType<typeof startStripeHarness>>;

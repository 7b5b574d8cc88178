// A billing test bench: the Stripe sandbox in-process, delivering signed webhooks over HTTP to the real
// webhook route handler, with the app's environment pointed at it before any app module loads. Each test
// file gets its own sandbox and database.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll } from "vitest";
import { startStripeSandbox } from "../../../sandbox/stripe/server";

const WEBHOOK_SECRET = "whsec_billing_tests_secret";

export async function startBillingHarness(options: { retryBaseMs?: number } = {}) {
  // The receiver forwards each delivery to the route handler, loaded only after the env below is set.
  let routePost: ((request: Request) => Promise<Response>) | null = null;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      const request = new Request(`http://127.0.0.1${req.url ?? "/"}`, { method: "POST", headers, body: Buffer.concat(chunks) });
      (routePost ? routePost(request) : Promise.resolve(new Response("not ready", { status: 503 })))
        .then(async (response) => {
          res.writeHead(response.status, { "content-type": "application/json" });
          res.end(await response.text());
        })
        .catch((error: unknown) => {
          res.writeHead(500);
          res.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhooks/stripe`;

  const sandbox = await startStripeSandbox({
    port: 0,
    webhooks: [{ url: receiverUrl, secret: WEBHOOK_SECRET }],
    retryBaseMs: options.retryBaseMs ?? 20,
    autoTestClock: true,
  });
  process.env.STRIPE_API_BASE = sandbox.url;
  process.env.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET;
  process.env.STRIPE_MAX_NETWORK_RETRIES = "0";

  const route = await import("@/app/api/webhooks/stripe/route");
  routePost = route.POST;

  const stripe = new Stripe("sk_test_billing_tests", {
    host: "127.0.0.1",
    port: sandbox.port,
    protocol: "http",
    maxNetworkRetries: 0,
  });
  const { setupStripe } = await import("@/server/billing/setup-stripe");
  await setupStripe(stripe);

  afterAll(async () => {
    await sandbox.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  return {
    sandbox,
    stripe,
    webhookSecret: WEBHOOK_SECRET,
    postWebhook: route.POST,
    /** Completes a hosted Checkout as a customer would, with the given card. */
    async completeCheckout(checkoutUrl: string, card = "4242424242424242") {
      const id = new URL(checkoutUrl).pathname.split("/").pop() ?? "";
      return fetch(`${sandbox.url}/_sandbox/checkout/sessions/${id}/complete`, {
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
    },
    /** Waits until every webhook the sandbox owes has been delivered (or given up). */
    idle: () => sandbox.idle(),
    faults: (body: Record<string, unknown>) =>
      fetch(`${sandbox.url}/_sandbox/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    async advanceClock(customerId: string, to: Date) {
      const customer = await stripe.customers.retrieve(customerId);
      if (customer.deleted || !customer.test_clock) throw new Error(`customer ${customerId} has no test clock`);
      const clockId = typeof customer.test_clock === "string" ? customer.test_clock : customer.test_clock.id;
      await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: Math.floor(to.getTime() / 1000) });
      for (let i = 0; i < 100; i++) {
        const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
        if (clock.status === "ready") return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`test clock ${clockId} never became ready`);
    },
  };
}

// Starts the Stripe sandbox in-process with a local webhook receiver that verifies every delivery's signature with the
// official client, and a `stripe` client pointed at the sandbox.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { startStripeSandbox, type StripeSandbox, type StripeSandboxOptions } from "../index";

export const WEBHOOK_SECRET = "whsec_sandbox_test_secret";

export interface Delivery {
  event: Stripe.Event;
  rawBody: string;
  signature: string;
}

export interface Harness {
  sandbox: StripeSandbox;
  stripe: Stripe;
  deliveries: Delivery[];
  /** how the receiver answers the nth delivery (0-based); 200 unless changed */
  respond: (n: number, event: Stripe.Event) => number;
  receiverUrl: string;
  types(): string[];
  close(): Promise<void>;
}

export function client(port: number): Stripe {
  return new Stripe("sk_test_sandbox", { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
}

export async function startHarness(options: Partial<StripeSandboxOptions> = {}): Promise<Harness> {
  const verifier = new Stripe("sk_test_verifier");
  const deliveries: Delivery[] = [];
  let count = 0;
  const harness = {} as Harness;
  harness.respond = () => 200;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const signature = String(req.headers["stripe-signature"] ?? "");
      // Throws on a bad signature; the test then fails on the 400 the sandbox records and on the missing delivery.
      let event: Stripe.Event;
      try {
        event = verifier.webhooks.constructEvent(rawBody, signature, WEBHOOK_SECRET);
      } catch {
        res.writeHead(400).end("bad signature");
        return;
      }
      const status = harness.respond(count++, event);
      if (status >= 200 && status < 300) deliveries.push({ event, rawBody, signature });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;
  const sandbox = await startStripeSandbox({
    port: 0,
    webhooks: [{ url: receiverUrl, secret: WEBHOOK_SECRET }],
    retryBaseMs: 20,
    ...options,
  });
  Object.assign(harness, {
    sandbox,
    stripe: client(sandbox.port),
    deliveries,
    receiverUrl,
    types: () => deliveries.map((d) => d.event.type),
    close: async () => {
      await sandbox.close();
      await new Promise<void>((resolve) => {
        receiver.close(() => resolve());
        receiver.closeAllConnections();
      });
    },
  });
  return harness;
}

export async function seedCatalog(stripe: Stripe) {
  const basicProduct = await stripe.products.create({ name: "Basic" });
  const proProduct = await stripe.products.create({ name: "Pro" });
  const basic = await stripe.prices.create({
    product: basicProduct.id,
    currency: "usd",
    unit_amount: 1000,
    recurring: { interval: "month" },
    lookup_key: "basic_monthly",
  });
  const pro = await stripe.prices.create({
    product: proProduct.id,
    currency: "usd",
    unit_amount: 3000,
    recurring: { interval: "month" },
    lookup_key: "pro_monthly",
  });
  return { basic, pro, basicProduct, proProduct };
}

export async function completeCheckout(sandbox: StripeSandbox, sessionId: string, fields: Record<string, unknown> = {}) {
  const response = await fetch(`${sandbox.url}/_sandbox/checkout/sessions/${sessionId}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(fields),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export const DAY = 24 * 3600;

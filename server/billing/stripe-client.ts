// The Stripe client, created lazily on first use so a missing key never breaks module loading. With no
// STRIPE_SECRET_KEY it talks to the local Stripe sandbox, through the very same code paths as api.stripe.com.
import Stripe from "stripe";
import { env, SANDBOX_SECRET_KEY, SANDBOX_WEBHOOK_SECRET, secretList, usesStripeSandbox } from "@/lib/env";
import { tracedStripeHttpClient } from "@/server/ops/stripe-spans";

export interface StripeClientOptions {
  secretKey?: string;
  apiBase?: string;
  maxNetworkRetries?: number;
}

export function createStripeClient(options: StripeClientOptions = {}): Stripe {
  const sandbox = usesStripeSandbox();
  const secretKey = options.secretKey ?? env.STRIPE_SECRET_KEY ?? SANDBOX_SECRET_KEY;
  const apiBase = options.apiBase ?? env.STRIPE_API_BASE ?? (sandbox ? `http://127.0.0.1:${env.STRIPE_SANDBOX_PORT}` : undefined);
  const target = apiBase ? new URL(apiBase) : null;
  return new Stripe(secretKey, {
    maxNetworkRetries: options.maxNetworkRetries ?? env.STRIPE_MAX_NETWORK_RETRIES,
    timeout: 20_000,
    appInfo: { name: "Hourglass" },
    // Node's HTTP client, as by default, with a span around each request (each retry its own).
    httpClient: tracedStripeHttpClient(Stripe.createNodeHttpClient()),
    ...(target
      ? {
          host: target.hostname,
          port: Number(target.port || (target.protocol === "https:" ? 443 : 80)),
          protocol: target.protocol === "https:" ? "https" : "http",
        }
      : {}),
  });
}

let shared: Stripe | undefined;

export function getStripe(): Stripe {
  shared ??= createStripeClient();
  return shared;
}

/** Whether the secret key is a live-mode key (sk_live_/rk_live_); the sandbox's key is a test key. */
export function stripeKeyIsLive(secretKey: string = env.STRIPE_SECRET_KEY ?? SANDBOX_SECRET_KEY): boolean {
  return /^(sk|rk)_live_/.test(secretKey);
}

/**
 * Every secret a delivery may be signed with: STRIPE_WEBHOOK_SECRET's one, or its two ("new,old") while a rotation
 * is under way; the sandbox's fixed secret when it is unset.
 */
export function getWebhookSecrets(): string[] {
  return env.STRIPE_WEBHOOK_SECRET ? secretList(env.STRIPE_WEBHOOK_SECRET) : [SANDBOX_WEBHOOK_SECRET];
}

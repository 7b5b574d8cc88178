// The one home of the local stand-ins' well-known values: default ports, the public development credentials of the
// Stripe sandbox, the default webhook URL, and how the Upstash bridge's per-run token is made. The app (lib/env,
// server/billing), the scripts (dev, local-services, app-stack) and the sandboxes all import these from here, so a
// value changes in one place. A leaf module: no imports from the app, safe for `sandbox/` to use.
import { randomBytes } from "node:crypto";

/** Default port of the Stripe sandbox (stripe-mock's port), overridden by STRIPE_SANDBOX_PORT. */
export const STRIPE_SANDBOX_DEFAULT_PORT = 12111;
/** Default port of the Upstash REST bridge, overridden by UPSTASH_BRIDGE_PORT. */
export const UPSTASH_BRIDGE_DEFAULT_PORT = 8079;
/** The Redis the bridge fronts when REDIS_URL is unset (standalone `npm run sandbox:upstash` only). */
export const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";
/** Where the standalone sandbox delivers webhooks when STRIPE_WEBHOOK_URL is unset: `npm run dev`'s app. */
export const LOCAL_WEBHOOK_URL = "http://localhost:3000/api/webhooks/stripe";
/** Where the standalone sandbox keeps its state when STRIPE_SANDBOX_STATE is unset. */
export const STRIPE_SANDBOX_STATE_FILE = ".data/stripe-sandbox.json";

/** Fixed, public development credentials for the embedded Stripe sandbox; never valid against api.stripe.com. */
export const SANDBOX_SECRET_KEY = "sk_test_hourglass_sandbox";
export const SANDBOX_WEBHOOK_SECRET = "whsec_hourglass_sandbox_development_secret";

/** The prefix of every bridge token this project generates, so a log line shows where a token came from. */
export const BRIDGE_TOKEN_PREFIX = "hourglass-bridge-";

/**
 * A fresh random token for one run of the Upstash bridge. `npm run dev` (and the e2e/bench stacks) generate one per
 * start and hand it to the app as UPSTASH_REDIS_REST_TOKEN; nothing else knows it, so another local process cannot
 * talk to the Redis behind the bridge.
 */
export function newBridgeToken(): string {
  return `${BRIDGE_TOKEN_PREFIX}${randomBytes(24).toString("base64url")}`;
}

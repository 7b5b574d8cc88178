// Real Stripe's pace for the sandbox's API: every /v1 request waits `latencyMs` +/- `jitterMs` before it is answered
// (api.stripe.com takes 100-400 ms), and beyond `rateLimit` requests per second (a token bucket) it answers as Stripe does when an
// account goes over its limit (25/s in test mode, 100/s live): 429, an `invalid_request_error` with code
// `rate_limit`. It also sends `Stripe-Should-Retry: true`: the stripe package retries a 429 only when that header
// says so (RequestSender._shouldRetry), with its backoff, up to maxNetworkRetries.

export interface ThrottleOptions {
  /** Mean delay before each API answer, in ms (default 0). */
  latencyMs?: number;
  /** The delay varies uniformly by up to this much either way, in ms (default 0). */
  latencyJitterMs?: number;
  /** API requests answered per second; more are refused with 429 (default: no limit). */
  rateLimit?: number;
}

export interface Throttle {
  /** Waits out the latency; then true when the request may proceed, false when it must be refused with 429. */
  admit(): Promise<boolean>;
}

export const rateLimitedBody = {
  error: {
    type: "invalid_request_error",
    code: "rate_limit",
    message: "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
    doc_url: "https://stripe.com/docs/error-codes/rate-limit",
    param: null,
  },
};

export const rateLimitedHeaders = { "stripe-should-retry": "true" };

export function createThrottle(options: ThrottleOptions = {}, now: () => number = () => performance.now()): Throttle {
  const latency = Math.max(0, options.latencyMs ?? 0);
  const jitter = Math.max(0, options.latencyJitterMs ?? 0);
  const limit = options.rateLimit && options.rateLimit > 0 ? options.rateLimit : null;
  // A token bucket, as Stripe's limiter is: `limit` tokens at most, refilled at `limit` per second.
  let tokens = limit ?? 0;
  let filledAt = now();

  const delay = () => Math.max(0, latency + (jitter ? (Math.random() * 2 - 1) * jitter : 0));
  const withinLimit = () => {
    if (limit === null) return true;
    const at = now();
    tokens = Math.min(limit, tokens + ((at - filledAt) / 1000) * limit);
    filledAt = at;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  return {
    async admit() {
      // Counted on arrival, as Stripe counts requests, then answered after the round trip.
      const ok = withinLimit();
      const wait = delay();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return ok;
    },
  };
}

/** The throttle options from STRIPE_SANDBOX_LATENCY_MS, STRIPE_SANDBOX_LATENCY_JITTER_MS and STRIPE_SANDBOX_RATE_LIMIT. */
export function throttleOptionsFromEnv(environment: Record<string, string | undefined>): ThrottleOptions {
  const number = (name: string): number | undefined => {
    const raw = environment[name];
    if (raw === undefined || raw.trim() === "") return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number of ${name.endsWith("LIMIT") ? "requests per second" : "milliseconds"}, got "${raw}"`);
    return value;
  };
  return {
    latencyMs: number("STRIPE_SANDBOX_LATENCY_MS"),
    latencyJitterMs: number("STRIPE_SANDBOX_LATENCY_JITTER_MS"),
    rateLimit: number("STRIPE_SANDBOX_RATE_LIMIT"),
  };
}

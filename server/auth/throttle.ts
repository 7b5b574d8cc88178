// Brute-force throttling for sign-in, sign-up and password reset: attempts are counted per account and
// per client address in fixed windows, in the same Redis as the token budget when Upstash is configured, or in
// this process for the embedded default. An attempt is counted BEFORE any password is hashed, so a burst of
// parallel guesses is refused at the door instead of queueing scrypt work; a success gives the attempt back.
//
// Reuse: `const throttle = createThrottle(SIGN_IN_LIMITS)`, then
//   const verdict = await throttle.attempt({ account: email, address: clientAddress(request.headers) });
//   if (!verdict.allowed) -> refuse with verdict.message ("Too many attempts. Try again in N minutes.")
//   ... on success: await throttle.succeeded({ account, address })
import "server-only";
import { Redis } from "@upstash/redis";
import { env } from "@/lib/env";

export interface CounterState {
  count: number;
  /** Milliseconds until the window (started by its first hit) ends and the count starts again at 0. */
  resetInMs: number;
}

/** Fixed-window counters, shared by every server instance when they live in Redis. */
export interface ThrottleCounterStore {
  /** Adds one to `key`; the first hit starts a window of `windowMs`. */
  hit(key: string, windowMs: number): Promise<CounterState>;
  /** Gives one back (a success), never below zero. */
  release(key: string): Promise<void>;
  /** Forgets the key (e.g. the account's count after a successful sign-in). */
  clear(key: string): Promise<void>;
}

export interface ThrottleLimit {
  limit: number;
  windowMs: number;
}

export interface ThrottleLimits {
  /** Names the keys: `throttle:<name>:account:<id>`. */
  name: string;
  account: ThrottleLimit;
  address: ThrottleLimit;
}

const MINUTE = 60_000;

/** Sign-in: an account locks after 10 failed attempts in 15 minutes; an address after 30. */
export const SIGN_IN_LIMITS: ThrottleLimits = {
  name: "sign-in",
  account: { limit: 10, windowMs: 15 * MINUTE },
  address: { limit: 30, windowMs: 15 * MINUTE },
};

/** Sign-up: every attempt counts (a success is not given back), 10 per email and 20 per address in 15 minutes. */
export const SIGN_UP_LIMITS: ThrottleLimits = {
  name: "sign-up",
  account: { limit: 10, windowMs: 15 * MINUTE },
  address: { limit: 20, windowMs: 15 * MINUTE },
};

/**
 * Password reset, both halves. Asking for a link: 5 per email and 20 per address in 15 minutes (on top of the quiet
 * one-email-a-minute per account), counted for any address, existing or not, so the refusal reveals nothing.
 * Using a link: 10 failed attempts per address in 15 minutes (a success gives its attempt back).
 */
export const RESET_REQUEST_LIMITS: ThrottleLimits = {
  name: "reset-request",
  account: { limit: 5, windowMs: 15 * MINUTE },
  address: { limit: 20, windowMs: 15 * MINUTE },
};
export const RESET_USE_LIMITS: ThrottleLimits = {
  name: "reset-use",
  account: { limit: 10, windowMs: 15 * MINUTE },
  address: { limit: 10, windowMs: 15 * MINUTE },
};

export type ThrottleVerdict =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number; scope: "account" | "address"; message: string };

export interface AttemptKeys {
  /** The account the attempt is for (a normalised email or a user id); omit when unknown. */
  account?: string | null;
  /** The client address (see clientAddress); omit when unknown. */
  address?: string | null;
}

export interface Throttle {
  /** Counts an attempt for each key and refuses it when any key is over its limit (nothing else is done then). */
  attempt(keys: AttemptKeys): Promise<ThrottleVerdict>;
  /** The attempt succeeded: the account's count starts again and the address gets its attempt back. */
  succeeded(keys: AttemptKeys): Promise<void>;
}

export function lockedMessage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}

export function createThrottle(limits: ThrottleLimits, store: ThrottleCounterStore = getThrottleStore()): Throttle {
  const keyOf = (scope: "account" | "address", id: string) => `throttle:${limits.name}:${scope}:${id.toLowerCase()}`;
  const scopes = (keys: AttemptKeys) =>
    (["account", "address"] as const)
      .map((scope) => ({ scope, id: keys[scope] }))
      .filter((entry): entry is { scope: "account" | "address"; id: string } => Boolean(entry.id));

  return {
    async attempt(keys) {
      const counted = await Promise.all(
        scopes(keys).map(async ({ scope, id }) => ({ scope, state: await store.hit(keyOf(scope, id), limits[scope].windowMs) })),
      );
      const over = counted
        .filter(({ scope, state }) => state.count > limits[scope].limit)
        .sort((a, b) => b.state.resetInMs - a.state.resetInMs)[0];
      if (!over) return { allowed: true };
      const retryAfterSeconds = Math.max(1, Math.ceil(over.state.resetInMs / 1000));
      return { allowed: false, retryAfterSeconds, scope: over.scope, message: lockedMessage(retryAfterSeconds) };
    },
    async succeeded(keys) {
      await Promise.all(
        scopes(keys).map(({ scope, id }) => (scope === "account" ? store.clear(keyOf(scope, id)) : store.release(keyOf(scope, id)))),
      );
    },
  };
}

/** Counters in this process (single server only), expired lazily and swept when the map grows. */
export function createMemoryCounterStore(now: () => number = Date.now): ThrottleCounterStore {
  const counters = new Map<string, { count: number; expiresAt: number }>();
  const live = (key: string) => {
    const entry = counters.get(key);
    if (entry && entry.expiresAt <= now()) {
      counters.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    async hit(key, windowMs) {
      if (counters.size > 10_000) for (const [k, entry] of counters) if (entry.expiresAt <= now()) counters.delete(k);
      const entry = live(key) ?? { count: 0, expiresAt: now() + windowMs };
      entry.count += 1;
      counters.set(key, entry);
      return { count: entry.count, resetInMs: entry.expiresAt - now() };
    },
    async release(key) {
      const entry = live(key);
      if (entry && entry.count > 0) entry.count -= 1;
    },
    async clear(key) {
      counters.delete(key);
    },
  };
}

// KEYS: counter. ARGV: window ms. One atomic step, so parallel attempts each get their own count.
const HIT_LUA = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;
// KEYS: counter. Decrements a live counter, never below zero, keeping its expiry.
const RELEASE_LUA = `
local count = tonumber(redis.call('GET', KEYS[1]))
if count and count > 0 then redis.call('DECR', KEYS[1]) end
return 1
`;
const CLEAR_LUA = `redis.call('DEL', KEYS[1]) return 1`;

/** Counters in Redis over Upstash's REST API (scripts only, like the budget store). */
export function createRedisCounterStore(redis: Redis): ThrottleCounterStore {
  const hit = redis.createScript<[number, number]>(HIT_LUA);
  const release = redis.createScript<number>(RELEASE_LUA);
  const clear = redis.createScript<number>(CLEAR_LUA);
  return {
    async hit(key, windowMs) {
      const [count, ttl] = await hit.exec([key], [String(windowMs)]);
      return { count: Number(count), resetInMs: Number(ttl) };
    },
    async release(key) {
      await release.exec([key], []);
    },
    async clear(key) {
      await clear.exec([key], []);
    },
  };
}

const holder = globalThis as typeof globalThis & { hourglassThrottleStore?: ThrottleCounterStore };

/** Upstash Redis when configured (the budget's Redis), otherwise one in-process store per server. */
export function getThrottleStore(): ThrottleCounterStore {
  if (!holder.hourglassThrottleStore) {
    const url = env.UPSTASH_REDIS_REST_URL;
    const token = env.UPSTASH_REDIS_REST_TOKEN;
    holder.hourglassThrottleStore =
      url && token
        ? createRedisCounterStore(new Redis({ url, token, retry: { retries: 2, backoff: (retryCount) => 50 * 2 ** retryCount } }))
        : createMemoryCounterStore();
  }
  return holder.hourglassThrottleStore;
}

/**
 * The client's address for throttling, or null when it cannot be known. X-Forwarded-For is believed only as far
 * as TRUSTED_PROXY_HOPS says: with N trusted proxies in front, the client is the N-th entry from the right (each
 * proxy appends the address it saw); anything further left was written by the client and may be forged. With 0
 * (the default) the header is ignored: `next start` only fills it in when the client sent none, so a forged one
 * cannot be told from a real one, and route handlers never see the socket. Then only the per-account limit
 * applies (a shared "unknown" counter would let one attacker lock everybody out). Set TRUSTED_PROXY_HOPS when
 * deploying behind a load balancer or CDN.
 */
export function clientAddress(headers: Headers, trustedHops: number = env.TRUSTED_PROXY_HOPS): string | null {
  if (trustedHops <= 0) return null;
  const hops = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (hops.length === 0) return null;
  // Fewer entries than trusted proxies: the leftmost is the best we have.
  return hops[Math.max(0, hops.length - trustedHops)] ?? null;
}

/**
 * A plain rate limit (every call counts, nothing is given back): `limit` calls per window per id, e.g. Checkout
 * and Portal session creation per user. Shares the throttle's counters (Redis when configured).
 */
export async function checkRateLimit(
  name: string,
  id: string,
  rule: ThrottleLimit,
  store: ThrottleCounterStore = getThrottleStore(),
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const state = await store.hit(`ratelimit:${name}:${id}`, rule.windowMs);
  if (state.count <= rule.limit) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(state.resetInMs / 1000)) };
}

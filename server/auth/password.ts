// Password hashing with scrypt from node:crypto. Hashes are self-describing (`scrypt$N$r$p$salt$hash`) so the
// cost can be raised without invalidating stored hashes: a hash made with less than today's cost verifies as
// before and `needsRehash` tells sign-in to store a new one. Comparison is constant-time.
//
// Cost: N = 2^17, r = 8, p = 1 (OWASP's scrypt recommendation) needs 128 * N * r = 128 MiB of memory per hash and
// a few hundred milliseconds of one core. So at most HASH_CONCURRENCY hashes run at once (each on a libuv thread,
// leaving the rest of the pool to fs and dns) and at most MAX_WAITING wait; beyond that a hash is refused at once
// with PasswordHashingBusyError rather than queueing without bound, so a flood of sign-ins can neither exhaust
// memory nor starve the pool.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

export const COST = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;
const SALT_BYTES = 16;
/** No stored hash may ask for more than this (a corrupted row must not make us allocate gigabytes). */
const MAX_N = 2 ** 20;
const HASH_CONCURRENCY = 2;
const MAX_WAITING = 64;

export class PasswordHashingBusyError extends Error {
  constructor() {
    super("too many password hashes waiting");
    this.name = "PasswordHashingBusyError";
  }
}

/** Runs at most `concurrency` jobs at once with at most `maxWaiting` queued; past that, refuses at once. */
export function createSlotLimiter(concurrency: number, maxWaiting: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async function run<T>(work: () => Promise<T>): Promise<T> {
    if (running >= concurrency) {
      if (waiting.length >= maxWaiting) throw new PasswordHashingBusyError();
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running += 1;
    }
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      // Hand the slot straight to the next waiter (running stays the same), or give it back.
      if (next) next();
      else running -= 1;
    }
  };
}

const withHashSlot = createSlotLimiter(HASH_CONCURRENCY, MAX_WAITING);

function derive(password: string, salt: Buffer, options: Required<Pick<ScryptOptions, "N" | "r" | "p">>, keyLength: number): Promise<Buffer> {
  // scrypt needs 128 * N * r * p bytes (plus a little); maxmem must cover it or Node refuses the call.
  const maxmem = 128 * options.N * options.r * options.p + 16 * 1024 * 1024;
  return withHashSlot(
    () =>
      new Promise((resolve, reject) => {
        scrypt(password.normalize("NFKC"), salt, keyLength, { ...options, maxmem }, (error, key) =>
          error ? reject(error) : resolve(key),
        );
      }),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST, KEY_LENGTH);
  return ["scrypt", COST.N, COST.r, COST.p, salt.toString("base64"), key.toString("base64")].join("$");
}

function parse(stored: string) {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return null;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.N, cost.r, cost.p].every((value) => Number.isInteger(value) && value > 0)) return null;
  if (cost.N > MAX_N || cost.r > 32 || cost.p > 4) return null;
  return { cost, salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const actual = await derive(password, parsed.salt, parsed.cost, parsed.hash.length);
  return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
}

/** True when a stored hash was made with less than today's cost: store a new one after the next good sign-in. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  if (!parsed) return false;
  return parsed.cost.N < COST.N || parsed.cost.r < COST.r || parsed.hash.length < KEY_LENGTH;
}

/** A fixed hash at today's cost to verify against when no user matches, so an unknown email takes as long as a wrong password. */
export const DUMMY_PASSWORD_HASH =
  `scrypt$${COST.N}$${COST.r}$${COST.p}$AAAAAAAAAAAAAAAAAAAAAA==$` + Buffer.alloc(KEY_LENGTH).toString("base64");

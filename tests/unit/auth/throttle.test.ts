import { describe, expect, it } from "vitest";
import { clientAddress, createMemoryCounterStore, createThrottle, lockedMessage, SIGN_IN_LIMITS } from "@/server/auth/throttle";
import { describeCounterStoreContract } from "./counter-store-contract";

describeCounterStoreContract("memory counter store", () => {
  let now = 1_000_000;
  return { store: createMemoryCounterStore(() => now), advance: async (ms) => void (now += ms), prefix: "memory" };
});

describe("sign-in throttle", () => {
  it("locks an account after 10 failed attempts in 15 minutes, saying when to come back, and opens again after", async () => {
    let now = 0;
    const throttle = createThrottle(SIGN_IN_LIMITS, createMemoryCounterStore(() => now));
    for (let i = 0; i < 10; i += 1) expect(await throttle.attempt({ account: "a@example.com" })).toEqual({ allowed: true });
    now += 60_000;
    const locked = await throttle.attempt({ account: "A@example.com" });
    expect(locked).toMatchObject({ allowed: false, scope: "account", retryAfterSeconds: 14 * 60 });
    expect(locked.allowed ? "" : locked.message).toBe("Too many attempts. Try again in 14 minutes.");
    // Another account is not affected; the locked one opens when the window ends.
    expect(await throttle.attempt({ account: "b@example.com" })).toEqual({ allowed: true });
    now += 14 * 60_000;
    expect(await throttle.attempt({ account: "a@example.com" })).toEqual({ allowed: true });
  });

  it("starts an account over after a success, but a success only gives the address back one attempt", async () => {
    const throttle = createThrottle(SIGN_IN_LIMITS, createMemoryCounterStore());
    for (let i = 0; i < 9; i += 1) await throttle.attempt({ account: "a@example.com", address: "198.51.100.7" });
    await throttle.succeeded({ account: "a@example.com", address: "198.51.100.7" });
    for (let i = 0; i < 10; i += 1) expect((await throttle.attempt({ account: "a@example.com" })).allowed).toBe(true);
    // The address has 8 + 0 counted; 22 more are allowed across any accounts, then it locks.
    for (let i = 0; i < 22; i += 1) expect((await throttle.attempt({ account: `x${i}@example.com`, address: "198.51.100.7" })).allowed).toBe(true);
    expect(await throttle.attempt({ account: "fresh@example.com", address: "198.51.100.7" })).toMatchObject({ allowed: false, scope: "address" });
  });

  it("counts parallel attempts each once", async () => {
    const throttle = createThrottle(SIGN_IN_LIMITS, createMemoryCounterStore());
    const verdicts = await Promise.all(Array.from({ length: 150 }, () => throttle.attempt({ account: "a@example.com" })));
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(10);
  });

  it("words the lock in minutes", () => {
    expect(lockedMessage(1)).toBe("Too many attempts. Try again in 1 minute.");
    expect(lockedMessage(61)).toBe("Too many attempts. Try again in 2 minutes.");
  });
});

describe("clientAddress", () => {
  const headers = (xff?: string) => new Headers(xff ? { "x-forwarded-for": xff } : {});
  it("ignores X-Forwarded-For unless TRUSTED_PROXY_HOPS says how many proxies to trust", () => {
    expect(clientAddress(headers("203.0.113.9"), 0)).toBeNull();
    expect(clientAddress(headers(), 1)).toBeNull();
  });
  it("takes the N-th entry from the right, never a client-written one further left", () => {
    expect(clientAddress(headers("forged, 203.0.113.9"), 1)).toBe("203.0.113.9");
    expect(clientAddress(headers("forged, 203.0.113.9, 10.0.0.2"), 2)).toBe("203.0.113.9");
    expect(clientAddress(headers("203.0.113.9"), 3)).toBe("203.0.113.9");
  });
});

import { describe, expect, it } from "vitest";
import {
  COST,
  createSlotLimiter,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  needsRehash,
  PasswordHashingBusyError,
  verifyPassword,
} from "@/server/auth/password";

// Each hash at N = 2^17 takes ~0.3 s of a free core, several seconds on a loaded CI machine.
describe("password hashing", { timeout: 60_000 }, () => {
  it("hashes with scrypt at N = 2^17 and a fresh salt, and verifies only the right password", async () => {
    const first = await hashPassword("correct horse battery");
    const second = await hashPassword("correct horse battery");
    expect(first).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{88}$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword("correct horse battery", first)).toBe(true);
    expect(await verifyPassword("correct horse batterY", first)).toBe(false);
    expect(await verifyPassword("", first)).toBe(false);
    expect(needsRehash(first)).toBe(false);
  });

  it("still verifies hashes made at the old cost, and says they need a rehash", async () => {
    // Made by the previous hashPassword (N = 16384) for "correct horse battery".
    const { scryptSync, randomBytes } = await import("node:crypto");
    const salt = randomBytes(16);
    const key = scryptSync("correct horse battery", salt, 64, { N: 16384, r: 8, p: 1 });
    const old = ["scrypt", 16384, 8, 1, salt.toString("base64"), key.toString("base64")].join("$");
    expect(await verifyPassword("correct horse battery", old)).toBe(true);
    expect(await verifyPassword("wrong horse battery", old)).toBe(false);
    expect(needsRehash(old)).toBe(true);
    expect(COST.N).toBe(2 ** 17);
  });

  it("rejects malformed stored hashes, absurd costs and the dummy hash", async () => {
    expect(await verifyPassword("x", "plain-text")).toBe(false);
    expect(await verifyPassword("x", "bcrypt$1$2$3$4$5")).toBe(false);
    expect(await verifyPassword("x", "scrypt$1073741824$8$1$AAAA$AAAA")).toBe(false);
    expect(await verifyPassword("anything", DUMMY_PASSWORD_HASH)).toBe(false);
    expect(DUMMY_PASSWORD_HASH.startsWith(`scrypt$${COST.N}$`)).toBe(true);
  });

  it("caps concurrent hashing and refuses, at once, work past the waiting limit", async () => {
    const run = createSlotLimiter(2, 3);
    let active = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const job = () =>
      run(async () => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise<void>((resolve) => releases.push(resolve));
        active -= 1;
      });
    const jobs = Array.from({ length: 8 }, job).map((promise) => promise.then(() => "done", (error: unknown) => error));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(active).toBe(2);
    while (releases.length > 0 || active > 0) {
      releases.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const outcomes = await Promise.all(jobs);
    expect(peak).toBe(2);
    expect(outcomes.filter((outcome) => outcome === "done")).toHaveLength(5);
    expect(outcomes.filter((outcome) => outcome instanceof PasswordHashingBusyError)).toHaveLength(3);
  });
});

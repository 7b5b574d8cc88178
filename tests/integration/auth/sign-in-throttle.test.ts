// Brute force against sign-in, through the real Auth.js handlers and the real database: after 10 wrong passwords
// the right one is refused too, with "try again in N minutes", without a stack trace in the log; an old-cost
// hash is replaced on the next good sign-in; and the Redis counter store keeps the same contract.
import { randomUUID, randomBytes, scryptSync } from "node:crypto";
import { eq } from "drizzle-orm";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadApp } from "../../support/load-app";
import { describeCounterStoreContract } from "../../unit/auth/counter-store-contract";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";

process.env.AUTH_SECRET ??= "integration-test-secret-0123456789abcdef";
const { getDb, users, authHandlers: handlers, signUp, authenticateWithPassword, throttle } = await loadApp();
const { createRedisCounterStore } = throttle;

const base = "http://localhost:3000";
const cookiesOf = (response: Response) => response.headers.getSetCookie().map((cookie) => cookie.split(";")[0] ?? "");

/** POSTs the credentials form as the browser does; the Location says whether it worked (and the error code if not). */
async function postSignIn(email: string, password: string): Promise<{ signedIn: boolean; location: string }> {
  const csrf = await handlers.GET(new NextRequest(`${base}/api/auth/csrf`));
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await handlers.POST(
    new NextRequest(`${base}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(csrf).join("; "), origin: base },
      body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `${base}/account` }),
    }),
  );
  const signedIn = cookiesOf(response).some((cookie) => cookie.startsWith("authjs.session-token="));
  return { signedIn, location: response.headers.get("location") ?? "" };
}

// Each scrypt at N = 2^17 is ~0.3 s of a free core and several seconds on a loaded machine.
describe("sign-in brute force", { timeout: 240_000 }, () => {
  it("locks the account after 10 wrong passwords: the right one is refused too, with when to retry; one log line each", async () => {
    const email = `brute-${Date.now()}@example.com`;
    await signUp({ email, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    const errored = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      for (let i = 0; i < 10; i += 1) {
        const attempt = await postSignIn(email, `wrong password ${i}`);
        expect(attempt.signedIn).toBe(false);
        expect(attempt.location).toContain("error=CredentialsSignin");
      }
      const refused = await postSignIn(email, "correct horse battery");
      expect(refused.signedIn).toBe(false);
      expect(refused.location).toContain("code=locked");
      // Every refusal logged exactly one line, and nothing was logged as an error (no stack traces).
      expect(warned).toHaveBeenCalledTimes(11);
      for (const call of warned.mock.calls) {
        expect(call).toHaveLength(1);
        expect(String(call[0])).toMatch(/^\[auth\] sign-in refused \((credentials|locked)\)$/);
      }
      expect(errored).not.toHaveBeenCalled();
    } finally {
      warned.mockRestore();
      errored.mockRestore();
    }
    await expect(authenticateWithPassword({ email, password: "correct horse battery" })).rejects.toThrow(
      /^Too many attempts\. Try again in (15|14) minutes\.$/,
    );
  });

  it("refuses 150 parallel attempts at one account after 10, without hashing the rest", async () => {
    const email = `parallel-${Date.now()}@example.com`;
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 150 }, (_, i) => authenticateWithPassword({ email, password: `wrong password ${i}` })),
    );
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(10);
    expect(outcomes.filter((outcome) => outcome.status === "rejected")).toHaveLength(140);
    console.info(`150 parallel wrong passwords: 10 checked, 140 refused unhashed, in ${Date.now() - started} ms`);
  });

  it("replaces a hash made at the old cost on the next good sign-in, and keeps it working", async () => {
    const email = `rehash-${Date.now()}@example.com`;
    const user = await signUp({ email, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
    const salt = randomBytes(16);
    const old = ["scrypt", 16384, 8, 1, salt.toString("base64"), scryptSync("correct horse battery", salt, 64, { N: 16384, r: 8, p: 1 }).toString("base64")].join("$");
    const db = await getDb();
    await db.update(users).set({ passwordHash: old }).where(eq(users.id, user.id));

    expect(await authenticateWithPassword({ email, password: "correct horse battery" })).toMatchObject({ id: user.id });
    const [row] = await db.select().from(users).where(eq(users.id, user.id));
    expect(row?.passwordHash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await authenticateWithPassword({ email, password: "correct horse battery" })).toMatchObject({ id: user.id });
    expect(await authenticateWithPassword({ email, password: "wrong horse battery" })).toBeNull();
  });
});

describe("sign-up brute force", () => {
  it("refuses the 21st attempt from one address and the 11th for one email, before any hashing", async () => {
    const address = `198.51.100.${Math.floor(Math.random() * 200)}`;
    const stamp = Date.now();
    for (let i = 0; i < 20; i += 1) {
      await expect(signUp({ email: `addr${i}-${stamp}@example.com`, password: "1234567890" }, { address })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    await expect(signUp({ email: `addr-last-${stamp}@example.com`, password: "correct horse battery" }, { address })).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
      message: expect.stringMatching(/^Too many attempts\. Try again in \d+ minutes?\.$/),
    });

    const email = `same-${stamp}@example.com`;
    for (let i = 0; i < 10; i += 1) await expect(signUp({ email, password: "qwertyuiop" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(signUp({ email, password: "correct horse battery" })).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });
  });
});

const prefix = `throttle-${randomUUID().slice(0, 8)}`;
let fixture: BridgeFixture;
describe.runIf(redisUrl)("the throttle in Redis through the Upstash bridge", () => {
  beforeAll(async () => {
    fixture = await startBridgeFixture([`throttle:test:${prefix}:*`]);
  });
  afterAll(async () => {
    await fixture?.close();
  });
  describeCounterStoreContract("redis counter store", () => ({
    store: createRedisCounterStore(fixture.client()),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    prefix,
  }));
});

// tRPC over HTTP through the route's handler, with the real router, database and Stripe sandbox: cross-origin
// and non-JSON writes are refused before any procedure runs, mutation batches are refused, and Checkout/Portal
// session creation is limited per user with Retry-After on the 429.
import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const { getDb, users, env, signUp, handleTrpcPost, throttle } = await loadApp();
const { createMemoryCounterStore } = throttle;

const origin = new URL(env.APP_URL).origin;
const url = (path: string) => `${origin}/api/trpc/${path}`;
const json = (input: unknown) => JSON.stringify(superjson.serialize(input));

async function signedUpUser() {
  return signUp({ email: `http-${randomUUID()}@example.com`, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
}

describe("tRPC mutations over HTTP", () => {
  it("refuses 100 cross-origin and non-JSON deleteAccount posts: 403/415, and the user still exists", async () => {
    const user = await signedUpUser();
    const db = await getDb();
    const context = async () => ({ db, userId: user.id });
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const form = new FormData();
      form.set("0", "{}");
      const cases: RequestInit[] = [
        { headers: { origin: "http://evil.example" }, body: form },
        { headers: { origin: "http://evil.example", "content-type": "application/json" }, body: json(undefined) },
        { headers: { origin: "http://127.0.0.1:9", "content-type": "application/json" }, body: json(undefined) },
        { headers: { "content-type": "application/json" }, body: json(undefined) },
        { headers: { origin, "sec-fetch-site": "same-site", "content-type": "application/json" }, body: json(undefined) },
        { headers: { origin }, body: form },
        { headers: { origin, "content-type": "text/plain" }, body: json(undefined) },
      ];
      const init = cases[i % cases.length] as RequestInit;
      const response = await handleTrpcPost(new Request(url("billing.deleteAccount"), { method: "POST", ...init }), { createContext: context });
      statuses.push(response.status);
    }
    expect(statuses.every((status) => status === 403 || status === 415)).toBe(true);
    expect(statuses.filter((status) => status === 415).length).toBeGreaterThan(0);
    const [left] = await db.select({ value: count() }).from(users).where(eq(users.id, user.id));
    expect(left?.value).toBe(1);

    // The same call from the app's own page works.
    const ok = await handleTrpcPost(
      new Request(url("billing.deleteAccount"), { method: "POST", headers: { origin, "content-type": "application/json" }, body: json(undefined) }),
      { createContext: context },
    );
    expect(ok.status).toBe(200);
  });

  it("refuses a batch of 100 createCheckoutSession before any runs, and a body over 64 kB with 413", async () => {
    const user = await signedUpUser();
    const db = await getDb();
    const before = (await harness.stripe.checkout.sessions.list({ limit: 100 })).data.length;
    const paths = Array.from({ length: 100 }, () => "billing.createCheckoutSession").join(",");
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, superjson.serialize({ plan: "starter" })])));
    const batch = await handleTrpcPost(
      new Request(`${url(paths)}?batch=1`, { method: "POST", headers: { origin, "content-type": "application/json" }, body }),
      { createContext: async () => ({ db, userId: user.id }) },
    );
    expect(batch.status).toBe(400);
    expect(await batch.text()).toMatch(/Mutations are not batched/);
    expect((await harness.stripe.checkout.sessions.list({ limit: 100 })).data.length).toBe(before);

    const big = await handleTrpcPost(
      new Request(url("billing.createCheckoutSession"), {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: JSON.stringify({ json: { plan: "starter", pad: "x".repeat(70_000) } }),
      }),
      { createContext: async () => ({ db, userId: user.id }) },
    );
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { message: "The request body is larger than 64 kB. Send at most 64 kB." } });
  });

  it("limits Checkout and Portal session creation to 10 a minute per user: 429 with Retry-After", async () => {
    const user = await signedUpUser();
    const other = await signedUpUser();
    const db = await getDb();
    // Both have confirmed their address: Checkout is refused (403) before that, and this test is about the limit.
    for (const id of [user.id, other.id]) await db.update(users).set({ emailVerified: new Date() }).where(eq(users.id, id));
    const rateLimitStore = createMemoryCounterStore();
    const call = (userId: string, path: string, input: unknown) =>
      handleTrpcPost(new Request(url(path), { method: "POST", headers: { origin, "content-type": "application/json" }, body: json(input) }), {
        createContext: async () => ({ db, userId, rateLimitStore }),
      });
    for (let i = 0; i < 10; i += 1) {
      const response = await call(user.id, i % 2 ? "billing.createPortalSession" : "billing.createCheckoutSession", i % 2 ? undefined : { plan: "starter" });
      expect(response.status).toBe(200);
    }
    const limited = await call(user.id, "billing.createCheckoutSession", { plan: "starter" });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(JSON.stringify(await limited.json())).toMatch(/Too many requests\. Try again in \d+ seconds/);
    expect((await call(user.id, "billing.createPortalSession", undefined)).status).toBe(429);
    // Someone else is not affected.
    expect((await call(other.id, "billing.createCheckoutSession", { plan: "starter" })).status).toBe(200);
  });
});

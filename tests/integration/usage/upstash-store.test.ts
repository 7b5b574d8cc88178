import { randomUUID } from "node:crypto";
import http from "node:http";
import { Redis as UpstashRedis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BudgetStoreUnavailableError,
  budgetKey,
  capKey,
  createUpstashBudgetStore,
  periodMarkerKey,
  reservationKey,
} from "@/server/usage";
import { startUpstashBridge } from "@/sandbox/upstash";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";
import { describeBudgetStoreContract } from "./budget-store-contract";

const prefix = `upstash-${randomUUID().slice(0, 8)}-`;
let fixture: BridgeFixture;

describe.runIf(redisUrl)("Upstash budget store through the bridge and a real Redis", () => {
  beforeAll(async () => {
    fixture = await startBridgeFixture([`chatbot-usage:${prefix}*`]);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  describeBudgetStoreContract("upstash store", () => ({
    createStore: (options) => createUpstashBudgetStore(fixture.client(), options),
    now: () => Date.now(),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    userPrefix: prefix,
    loseBudgetKey: async (userId) => {
      await fixture.redis.del(budgetKey(userId));
    },
  }));

  it("keeps chatbot-usage:<userId> as an integer string expiring exactly at the period end, with its marker", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const user = `${prefix}${randomUUID()}`;
    const end = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    await store.reset(user, 1_000_000, end);
    expect(await fixture.redis.get(budgetKey(user))).toBe("1000000");
    expect(await fixture.redis.call("PEXPIRETIME", budgetKey(user))).toBe(end.getTime());
    expect(await fixture.redis.get(periodMarkerKey(user))).toBe(String(end.getTime()));
    expect(await fixture.redis.call("PEXPIRETIME", periodMarkerKey(user))).toBe(end.getTime());

    await store.reserve(user, "req-1", 4_000);
    expect(await fixture.redis.get(budgetKey(user))).toBe("996000");
    const ttl = await fixture.redis.pttl(reservationKey(user, "req-1"));
    expect(ttl).toBeGreaterThan(14 * 60 * 1000);
    expect(ttl).toBeLessThanOrEqual(15 * 60 * 1000);
    expect(await fixture.redis.hget(reservationKey(user, "req-1"), "granted")).toBe("4000");

    await store.settle(user, "req-1", 1_234);
    expect(await fixture.redis.get(budgetKey(user))).toBe("998766");
    // Settling rewrites the value but keeps the period-end expiry.
    expect(await fixture.redis.call("PEXPIRETIME", budgetKey(user))).toBe(end.getTime());
    expect(await fixture.redis.hget(reservationKey(user, "req-1"), "settled")).toBe("1234");
    expect(await fixture.redis.pttl(reservationKey(user, "req-1"))).toBeGreaterThan(14 * 60 * 1000);
  });

  it("forget deletes chatbot-usage:<id>, its :period, its :cap and every :request:* key, and no other user's", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const user = `${prefix}${randomUUID()}`;
    const other = `${prefix}${randomUUID()}`;
    const end = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    await store.reset(user, 1_000_000, end);
    await store.reset(other, 1_000, end);
    for (let i = 0; i < 30; i += 1) await store.reserve(user, `req-${i}`, 10);
    await store.reserve(other, "req-0", 10);
    expect(await fixture.redis.keys(`${budgetKey(user)}*`)).toHaveLength(33);
    expect(await fixture.redis.exists(capKey(user))).toBe(1);
    await store.forget(user);
    expect(await fixture.redis.keys(`${budgetKey(user)}*`)).toEqual([]);
    expect(await fixture.redis.exists(budgetKey(other), periodMarkerKey(other), reservationKey(other, "req-0"))).toBe(3);
  });

  it("records the cap as chatbot-usage:<id>:cap expiring with the period; a raise keeps the budget's expiry", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const user = `${prefix}${randomUUID()}`;
    const end = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    await store.reset(user, 1_000_000, end);
    expect(await fixture.redis.get(capKey(user))).toBe("1000000");
    expect(await fixture.redis.call("PEXPIRETIME", capKey(user))).toBe(end.getTime());
    await store.reserve(user, "r", 270);
    await store.settle(user, "r", 270);
    expect(await store.raiseCap(user, 5_000_000, end)).toEqual({ applied: true, tokensRemaining: 4_999_730 });
    expect(await fixture.redis.get(budgetKey(user))).toBe("4999730");
    expect(await fixture.redis.call("PEXPIRETIME", budgetKey(user))).toBe(end.getTime());
    expect(await fixture.redis.get(capKey(user))).toBe("5000000");
    expect(await fixture.redis.call("PEXPIRETIME", capKey(user))).toBe(end.getTime());
  });

  it("raises a budget granted before caps were recorded from the cap the caller says it was granted under", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const user = `${prefix}${randomUUID()}`;
    const end = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    await store.reset(user, 1_000, end);
    await store.reserve(user, "r", 100);
    await fixture.redis.del(capKey(user)); // as an older version left it: budget and marker, no cap
    // Without a hint nothing is assumed: no raise, and the cap is recorded from then on.
    const other = `${prefix}${randomUUID()}`;
    await store.reset(other, 1_000, end);
    await fixture.redis.del(capKey(other));
    expect(await store.raiseCap(other, 5_000, end)).toEqual({ applied: false, tokensRemaining: 1_000 });
    expect(await fixture.redis.get(capKey(other))).toBe("5000");
    // With the hint, the difference from it, once.
    expect(await store.raiseCap(user, 5_000, end, { unrecordedCap: 1_000 })).toEqual({ applied: true, tokensRemaining: 4_900 });
    expect(await store.raiseCap(user, 5_000, end, { unrecordedCap: 1_000 })).toEqual({ applied: false, tokensRemaining: 4_900 });
  });

  it("reads a budget written by hand (no marker) with its key expiry as the reset date", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const user = `${prefix}${randomUUID()}`;
    const end = Date.now() + 600_000;
    await fixture.redis.set(budgetKey(user), "42", "PXAT", end);
    const snapshot = await store.read(user);
    expect(snapshot?.tokensRemaining).toBe(42);
    expect(Math.abs((snapshot?.resetsAt?.getTime() ?? 0) - end)).toBeLessThanOrEqual(2);
  });

  it("fails closed when the budget key holds something that is not an integer", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const user = `${prefix}${randomUUID()}`;
    await fixture.redis.set(budgetKey(user), "lots", "EX", 60);
    await expect(store.reserve(user, "a", 10)).rejects.toThrow(BudgetStoreUnavailableError);
    await expect(store.read(user)).rejects.toThrow(BudgetStoreUnavailableError);
  });

  it("runs its scripts again after Redis forgets them (EVALSHA falls back to EVAL)", async () => {
    const store = createUpstashBudgetStore(fixture.client());
    const user = `${prefix}${randomUUID()}`;
    await store.reset(user, 100, new Date(Date.now() + 60_000));
    await fixture.redis.script("FLUSH");
    expect(await store.reserve(user, "a", 30)).toEqual({ ok: true, granted: 30, tokensRemaining: 70, packTokens: 0 });
  });

  it("charges once when the client retries a request whose response was lost", async () => {
    // A proxy that forwards every request but cuts the connection instead of answering the first `drops`
    // times: the script ran in Redis, the client sees a network error and retries, as it does by default.
    let drops = 2;
    // Answers that were script runs rather than NOSCRIPT (another test file may flush scripts at any time).
    let executed = 0;
    const proxy = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && !["host", "connection", "content-length"].includes(name)) {
          headers.set(name, value);
        }
      }
      const upstream = await fetch(`${fixture.bridge.url}${req.url ?? "/"}`, {
        method: "POST",
        headers,
        body: Buffer.concat(chunks),
      });
      const body = await upstream.text();
      if (!body.includes("NOSCRIPT")) executed += 1;
      if (drops > 0) {
        drops -= 1;
        req.socket.destroy();
        return;
      }
      res.writeHead(upstream.status, { "Content-Type": "application/json" });
      res.end(body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const address = proxy.address();
      if (typeof address !== "object" || !address) throw new Error("proxy has no port");
      const flaky = new UpstashRedis({ url: `http://127.0.0.1:${address.port}`, token: fixture.token });
      const store = createUpstashBudgetStore(flaky);
      const user = `${prefix}${randomUUID()}`;
      const direct = createUpstashBudgetStore(fixture.client());
      await direct.reset(user, 10_000, new Date(Date.now() + 60_000));
      // Load the scripts first, so the dropped attempts (most likely) run them rather than meet NOSCRIPT.
      await direct.reserve(user, "warm-up", 0);
      await direct.settle(user, "warm-up", 0);

      drops = 2;
      executed = 0;
      expect(await store.reserve(user, "req", 4_000)).toEqual({ ok: true, granted: 4_000, tokensRemaining: 6_000, packTokens: 0 });
      expect(executed).toBeGreaterThanOrEqual(2);
      expect(await fixture.redis.get(budgetKey(user))).toBe("6000");
      drops = 2;
      executed = 0;
      expect(await store.settle(user, "req", 1_000)).toMatchObject({ tokensRemaining: 9_000 });
      expect(executed).toBeGreaterThanOrEqual(2);
      expect(await fixture.redis.get(budgetKey(user))).toBe("9000");
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("reports BudgetStoreUnavailableError, never a grant, when Redis behind the bridge is gone", async () => {
    const deadRedis = await startUpstashBridge({ port: 0, redisUrl: "redis://127.0.0.1:1", token: "t" });
    try {
      const store = createUpstashBudgetStore(new UpstashRedis({ url: deadRedis.url, token: "t" }));
      const started = Date.now();
      await expect(store.reserve(`${prefix}gone`, "a", 10)).rejects.toThrow(BudgetStoreUnavailableError);
      await expect(store.read(`${prefix}gone`)).rejects.toThrow(BudgetStoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await deadRedis.close();
    }
  });
});

// Needs no Redis: the bridge is closed before the store talks to it.
describe("Upstash budget store with its bridge unreachable", () => {
  it("reports BudgetStoreUnavailableError after the client's retries, never a grant", async () => {
    const bridge = await startUpstashBridge({ port: 0, redisUrl: "redis://127.0.0.1:1", token: "t" });
    await bridge.close();
    const store = createUpstashBudgetStore(new UpstashRedis({ url: bridge.url, token: "t" }));
    const error = await store.reserve("nobody", "a", 10).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BudgetStoreUnavailableError);
    expect(String(error)).toMatch(/reserve/);
  }, 20_000);
});

// GET /api/ready: 200 only when the database and the budget store answer; 503 naming each one that does not,
// whether it refuses connections or hangs. The failing dependencies are real clients pointed at dead or silent ports.
import net from "node:net";
import { Redis as UpstashRedis } from "@upstash/redis";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { GET } from "@/app/api/ready/route";
import { GET as health } from "@/app/api/health/route";
import { checkReadiness } from "@/server/ops/readiness";
import { createMemoryBudgetStore, createUpstashBudgetStore } from "@/server/usage";
import { redisUrl, startBridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";

/** A port nothing listens on (connections are refused). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A port that accepts connections and never answers. */
const silent = net.createServer(() => {});
await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
const silentPort = (silent.address() as net.AddressInfo).port;
afterAll(() => {
  silent.close();
});

const upstashAt = (url: string) =>
  createUpstashBudgetStore(new UpstashRedis({ url, token: "t", enableTelemetry: false, retry: { retries: 0 } }));

describe("GET /api/ready", () => {
  it("answers 200 with each check when the database and the budget store answer, and is never cached", async () => {
    const response = await GET();
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.json();
    expect(body).toMatchObject({ status: "ready", down: [], checks: { database: { ok: true }, budgetStore: { ok: true } } });
  });

  it("names the budget store when it refuses connections, and the database when it is gone", async () => {
    const port = await deadPort();
    const store = upstashAt(`http://127.0.0.1:${port}`);
    const storeDown = await checkReadiness({ store: () => store });
    expect(storeDown).toMatchObject({ ready: false, down: ["budgetStore"], checks: { database: { ok: true } } });

    const dead = await openDatabase({ kind: "postgres", url: `postgres://postgres@127.0.0.1:${await deadPort()}/none` });
    try {
      const bothDown = await checkReadiness({ db: async () => dead.db, store: () => store });
      expect(bothDown.ready).toBe(false);
      expect(bothDown.down).toEqual(["database", "budgetStore"]);
    } finally {
      await dead.close();
    }
  });

  it("fails a dependency that hangs within its timeout instead of hanging the probe", async () => {
    const store = upstashAt(`http://127.0.0.1:${silentPort}`);
    const started = Date.now();
    const result = await checkReadiness({ store: () => store, timeoutMs: 400 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toMatchObject({ ready: false, down: ["budgetStore"], checks: { budgetStore: { ok: false, error: "timed out after 400 ms" } } });
  });

  it("reads nothing into the store it probes", async () => {
    const store = createMemoryBudgetStore();
    expect((await checkReadiness({ store: () => store })).ready).toBe(true);
    expect(await store.read("readiness-probe")).toBeNull();
  });

  it.runIf(redisUrl)("answers ready through the Upstash bridge in front of a real Redis", async () => {
    const fixture = await startBridgeFixture([]);
    try {
      const store = createUpstashBudgetStore(fixture.client());
      expect(await checkReadiness({ store: () => store })).toMatchObject({ ready: true, down: [] });
    } finally {
      await fixture.close();
    }
  });

  it("leaves /api/health process-only: it answers 200 whatever the dependencies say", () => {
    expect(health().status).toBe(200);
  });
});

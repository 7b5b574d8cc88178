// More than one server (APP_INSTANCES > 1) refuses per-process state: the in-process budget store above all (N
// servers would each count their own budget), and with it an embedded database and a generated AUTH_SECRET. The
// start-up check stops the process in every mode; the budget store refuses on its own too (fails closed).
import { spawnSync } from "node:child_process";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { assertSharedStateForInstances, parseEnv, perProcessStandIns } from "@/lib/env";

const SECRET = "s".repeat(40);
const SHARED = {
  DATABASE_URL: "postgres://u@db:5432/app",
  UPSTASH_REDIS_REST_URL: "https://eu1.upstash.io",
  UPSTASH_REDIS_REST_TOKEN: "token",
  AUTH_SECRET: SECRET,
};

describe("APP_INSTANCES", () => {
  it("defaults to one server, which may keep state in its process", () => {
    const single = parseEnv({});
    expect(single.APP_INSTANCES).toBe(1);
    expect(perProcessStandIns(single)).toEqual([]);
    expect(() => assertSharedStateForInstances(single)).not.toThrow();
  });

  it("refuses the in-process budget store for two servers, naming the variables that replace it", () => {
    const noRedis = parseEnv({ APP_INSTANCES: "2", DATABASE_URL: SHARED.DATABASE_URL, AUTH_SECRET: SECRET });
    expect(perProcessStandIns(noRedis)).toEqual([
      "the in-process token budget store and sign-in throttle (set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)",
    ]);
    expect(() => assertSharedStateForInstances(noRedis)).toThrow(
      /^APP_INSTANCES=2: 2 servers cannot share state kept in one process: the in-process token budget store.*UPSTASH_REDIS_REST_URL/,
    );
    // Production or not, with EMBEDDED_DEFAULTS=1 or not: the refusal does not depend on either.
    for (const mode of [{ NODE_ENV: "production", EMBEDDED_DEFAULTS: "1" }, { NODE_ENV: "development" }]) {
      expect(() => assertSharedStateForInstances(parseEnv({ ...mode, APP_INSTANCES: "3", DATABASE_URL: SHARED.DATABASE_URL, AUTH_SECRET: SECRET }))).toThrow(
        /APP_INSTANCES=3/,
      );
    }
  });

  it("also names an embedded database and a generated AUTH_SECRET, and lets shared services through", () => {
    expect(perProcessStandIns(parseEnv({ APP_INSTANCES: "2" })).map((standIn) => standIn.split(" (")[0])).toEqual([
      "the in-process token budget store and sign-in throttle",
      "the embedded PGlite database",
      "a generated AUTH_SECRET",
    ]);
    expect(() => assertSharedStateForInstances(parseEnv({ APP_INSTANCES: "2", ...SHARED }))).not.toThrow();
    // `next build` has none of the run-time services and is let through.
    expect(() => assertSharedStateForInstances(parseEnv({ APP_INSTANCES: "2", NEXT_PHASE: "phase-production-build" }))).not.toThrow();
  });

  it("rejects a count that is not a positive integer, naming the variable", () => {
    expect(() => parseEnv({ APP_INSTANCES: "0" })).toThrow(/APP_INSTANCES/);
    expect(() => parseEnv({ APP_INSTANCES: "two" })).toThrow(/APP_INSTANCES/);
  });
});

describe("a server configured as one of two (as instrumentation.ts and the chat route run it)", () => {
  const run = (code: string, extraEnv: Record<string, string>) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production", EMBEDDED_DEFAULTS: "1", AUTH_SECRET: SECRET, DATA_DIR: os.tmpdir() };
    for (const name of ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "NEXT_PHASE"]) delete childEnv[name];
    Object.assign(childEnv, extraEnv);
    return spawnSync(process.execPath, ["--import", "tsx", "-e", code], { env: childEnv, encoding: "utf8", timeout: 60_000 });
  };
  const startUp = 'const { refuseEmbeddedServicesInProduction } = await import("./server/startup-check.ts"); refuseEmbeddedServicesInProduction(); console.log("started");';

  it("stops at start-up without the shared budget store, and starts with it", () => {
    const refused = run(startUp, { APP_INSTANCES: "2", DATABASE_URL: SHARED.DATABASE_URL });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/APP_INSTANCES=2: 2 servers cannot share state kept in one process: the in-process token budget store/);
    expect(refused.stdout).not.toContain("started");

    const started = run(startUp, { APP_INSTANCES: "2", ...SHARED });
    expect(started.status).toBe(0);
    expect(started.stdout).toContain("started");
  }, 120_000);

  it("the budget store itself refuses to count in process (the chat fails closed with 503)", () => {
    const code =
      'const { getBudgetStore } = await import("./server/usage/index.ts");' +
      "try { getBudgetStore(); console.log('store'); } catch (error) { console.log(error.name, error.status, error.message); }";
    const refused = run(code, { APP_INSTANCES: "2" });
    expect(refused.stdout).toMatch(/^BudgetStoreUnavailableError 503 .*APP_INSTANCES > 1/);
    const single = run(code, { APP_INSTANCES: "1" });
    expect(single.stdout.trim()).toBe("store");
  }, 120_000);
});

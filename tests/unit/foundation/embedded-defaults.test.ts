// Embedded defaults in production: EMBEDDED_DEFAULTS=1 lets `next start` run on the stand-ins, loudly, naming each;
// a generated AUTH_SECRET is refused in production whatever EMBEDDED_DEFAULTS says.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { assertProductionAuthSecret, embeddedDefaultsWarning, embeddedStandIns, parseEnv } from "@/lib/env";
import { resolveAuthSecret } from "@/server/auth/secret";

const SECRET = "s".repeat(40);

describe("embedded stand-ins in production", () => {
  it("names each stand-in in use, with the variable that replaces it", () => {
    const standIns = embeddedStandIns(parseEnv({ NODE_ENV: "production", EMBEDDED_DEFAULTS: "1" }));
    expect(standIns).toHaveLength(5);
    expect(standIns.join("\n")).toMatch(/embedded database: PGlite.*\(set DATABASE_URL\)/);
    expect(standIns.join("\n")).toMatch(/Stripe sandbox at http:\/\/127\.0\.0\.1:12111.*\(set STRIPE_SECRET_KEY\)/);
    expect(standIns.join("\n")).toMatch(/in-process budget store: one budget per server process.*\(set UPSTASH_REDIS_REST_URL\)/);
    expect(standIns.join("\n")).toMatch(/demo model.*\(set OPENAI_API_KEY or OPENAI_BASE_URL\)/);
    expect(standIns.join("\n")).toMatch(/generated AUTH_SECRET.*\(set AUTH_SECRET\)/);
    const partly = embeddedStandIns(parseEnv({ DATABASE_URL: "postgres://db/app", OPENAI_BASE_URL: "http://llm:8000/v1", AUTH_SECRET: SECRET }));
    expect(partly.map((standIn) => standIn.split(":")[0])).toEqual(["Stripe sandbox at http", "in-process budget store"]);
  });

  it("warns loudly only for a production server started with EMBEDDED_DEFAULTS=1 on stand-ins", () => {
    const warning = embeddedDefaultsWarning(parseEnv({ NODE_ENV: "production", EMBEDDED_DEFAULTS: "1", AUTH_SECRET: SECRET }));
    expect(warning).toMatch(/^!{100}\n!! EMBEDDED_DEFAULTS=1: this production server runs on 4 development stand-in\(s\)/);
    expect(warning?.split("\n").filter((line) => line.startsWith("!!   - "))).toHaveLength(4);
    expect(embeddedDefaultsWarning(parseEnv({ NODE_ENV: "development", EMBEDDED_DEFAULTS: "1" }))).toBeNull();
    expect(embeddedDefaultsWarning(parseEnv({ NODE_ENV: "production", EMBEDDED_DEFAULTS: "1", NEXT_PHASE: "phase-production-build" }))).toBeNull();
    const real = parseEnv({
      NODE_ENV: "production",
      EMBEDDED_DEFAULTS: "1",
      DATABASE_URL: "postgres://u@db:5432/app",
      STRIPE_SECRET_KEY: "sk_live_abc",
      STRIPE_WEBHOOK_SECRET: "whsec_abc",
      UPSTASH_REDIS_REST_URL: "https://eu1.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "token",
      AUTH_SECRET: SECRET,
      OPENAI_API_KEY: "sk-abc",
    });
    expect(embeddedDefaultsWarning(real)).toBeNull();
  });

  it("refuses a generated AUTH_SECRET in production, even with EMBEDDED_DEFAULTS=1, but lets the build and development through", () => {
    expect(() => assertProductionAuthSecret(parseEnv({ NODE_ENV: "production", EMBEDDED_DEFAULTS: "1" }))).toThrow(/without AUTH_SECRET.*even with EMBEDDED_DEFAULTS=1/);
    expect(() => assertProductionAuthSecret(parseEnv({ NODE_ENV: "production", AUTH_SECRET: SECRET }))).not.toThrow();
    expect(() => assertProductionAuthSecret(parseEnv({ NODE_ENV: "production", NEXT_PHASE: "phase-production-build" }))).not.toThrow();
    expect(() => assertProductionAuthSecret(parseEnv({ NODE_ENV: "development" }))).not.toThrow();
  });

  it("never generates the secret file for a production server", () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-secret-"));
    try {
      expect(() => resolveAuthSecret(parseEnv({ NODE_ENV: "production", EMBEDDED_DEFAULTS: "1", DATA_DIR: dataDir }))).toThrow(/AUTH_SECRET/);
      expect(fs.existsSync(path.join(dataDir, "auth-secret"))).toBe(false);
      expect(resolveAuthSecret(parseEnv({ NODE_ENV: "production", DATA_DIR: dataDir, AUTH_SECRET: SECRET }))).toBe(SECRET);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("the start-up check (as instrumentation.ts runs it)", () => {
  const runCheck = (extraEnv: Record<string, string>) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "production", EMBEDDED_DEFAULTS: "1", ...extraEnv };
    for (const name of ["DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "OPENAI_API_KEY", "OPENAI_BASE_URL", "NEXT_PHASE"]) {
      delete childEnv[name];
    }
    if (!extraEnv.AUTH_SECRET) delete childEnv.AUTH_SECRET;
    return spawnSync(
      process.execPath,
      ["--import", "tsx", "-e", 'const { refuseEmbeddedServicesInProduction } = await import("./server/startup-check.ts"); refuseEmbeddedServicesInProduction(); console.log("started");'],
      { env: childEnv, encoding: "utf8", timeout: 60_000 },
    );
  };

  it("stops a production start without AUTH_SECRET, and names every stand-in of one with it", () => {
    const refused = runCheck({});
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/Production start without AUTH_SECRET/);
    expect(refused.stdout).not.toContain("started");

    const started = runCheck({ AUTH_SECRET: SECRET });
    expect(started.status).toBe(0);
    expect(started.stdout).toContain("started");
    expect(started.stderr).toMatch(/EMBEDDED_DEFAULTS=1: this production server runs on 4 development stand-in/);
    for (const name of ["embedded database", "Stripe sandbox", "in-process budget store", "demo model"]) expect(started.stderr).toContain(name);
  }, 120_000);
});

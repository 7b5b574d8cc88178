import { describe, expect, it } from "vitest";
import { assertProductionServices, EnvError, missingProductionServices, parseEnv } from "@/lib/env";

describe("environment validation", () => {
  it("accepts an empty environment and fills the embedded defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      NODE_ENV: "development",
      APP_URL: "http://localhost:3000",
      STRIPE_SANDBOX_PORT: 12111,
      UPSTASH_BRIDGE_PORT: 8079,
      CHAT_TOKEN_BUDGET: 1_000_000,
      CREDIT_PACK_EXPIRY_DAYS: 365,
      EMBEDDED_DEFAULTS: false,
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it("in development, an unset APP_URL follows PORT; a set APP_URL, or production, keeps its own", () => {
    expect(parseEnv({ PORT: "3100" }).APP_URL).toBe("http://localhost:3100");
    expect(parseEnv({ PORT: "3100", APP_URL: "" }).APP_URL).toBe("http://localhost:3100");
    expect(parseEnv({ PORT: "3100", APP_URL: "http://127.0.0.1:4000" }).APP_URL).toBe("http://127.0.0.1:4000");
    expect(parseEnv({ PORT: "3100", NODE_ENV: "production", EMBEDDED_DEFAULTS: "1" }).APP_URL).toBe("http://localhost:3000");
    expect(parseEnv({ PORT: "" }).APP_URL).toBe("http://localhost:3000");
    expect(() => parseEnv({ PORT: "http" })).toThrow(/^  PORT: /m);
  });

  it("treats empty strings as unset", () => {
    expect(parseEnv({ DATABASE_URL: "", STRIPE_SECRET_KEY: " " }).DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ DATABASE_URL: "mysql://localhost/db" }, "DATABASE_URL"],
    [{ APP_URL: "not a url" }, "APP_URL"],
    [{ STRIPE_SECRET_KEY: "pk_test_123", STRIPE_WEBHOOK_SECRET: "whsec_x" }, "STRIPE_SECRET_KEY"],
    [{ STRIPE_SECRET_KEY: "sk_test_123" }, "STRIPE_WEBHOOK_SECRET"],
    [{ STRIPE_WEBHOOK_SECRET: "secret" }, "STRIPE_WEBHOOK_SECRET"],
    [{ UPSTASH_REDIS_REST_URL: "https://example.upstash.io" }, "UPSTASH_REDIS_REST_TOKEN"],
    [{ UPSTASH_REDIS_REST_TOKEN: "token" }, "UPSTASH_REDIS_REST_URL"],
    [{ AUTH_SECRET: "short" }, "AUTH_SECRET"],
    [{ AUTH_GITHUB_ID: "id" }, "AUTH_GITHUB_SECRET"],
    [{ CHAT_TOKEN_BUDGET: "-5" }, "CHAT_TOKEN_BUDGET"],
    [{ CREDIT_PACK_EXPIRY_DAYS: "0" }, "CREDIT_PACK_EXPIRY_DAYS"],
    [{ REDIS_URL: "http://localhost:6379" }, "REDIS_URL"],
    [{ EMBEDDED_DEFAULTS: "yes" }, "EMBEDDED_DEFAULTS"],
    [{ SMTP_URL: "mail.example.com:587" }, "SMTP_URL"],
  ])("rejects %o naming %s", (source, name) => {
    expect(() => parseEnv(source)).toThrow(EnvError);
    expect(() => parseEnv(source)).toThrow(new RegExp(`^Invalid environment variables:\\n  ${name}: `, "m"));
  });

  it("lists every real service a production start is missing", () => {
    expect(missingProductionServices(parseEnv({ NODE_ENV: "production" }))).toEqual([
      "DATABASE_URL",
      "STRIPE_SECRET_KEY",
      "UPSTASH_REDIS_REST_URL",
      "AUTH_SECRET",
      "OPENAI_API_KEY or OPENAI_BASE_URL",
      "SMTP_URL",
    ]);
  });

  it("refuses a production start on embedded defaults unless EMBEDDED_DEFAULTS=1, but lets the build through", () => {
    expect(() => assertProductionServices(parseEnv({ NODE_ENV: "production" }))).toThrow(/set DATABASE_URL, STRIPE_SECRET_KEY/);
    expect(() => assertProductionServices(parseEnv({ NODE_ENV: "production", EMBEDDED_DEFAULTS: "1" }))).not.toThrow();
    expect(() =>
      assertProductionServices(parseEnv({ NODE_ENV: "production", NEXT_PHASE: "phase-production-build" })),
    ).not.toThrow();
    expect(() => assertProductionServices(parseEnv({ NODE_ENV: "development" }))).not.toThrow();
  });

  it("accepts a complete production environment", () => {
    const env = parseEnv({
      NODE_ENV: "production",
      DATABASE_URL: "postgres://u@db:5432/app",
      STRIPE_SECRET_KEY: "sk_live_abc",
      STRIPE_WEBHOOK_SECRET: "whsec_abc",
      UPSTASH_REDIS_REST_URL: "https://eu1.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "token",
      AUTH_SECRET: "x".repeat(32),
      OPENAI_API_KEY: "sk-abc",
      SMTP_URL: "smtps://resend:re_key@smtp.resend.com:465",
    });
    expect(() => assertProductionServices(env)).not.toThrow();
    // Mail that would land in a local inbox nobody reads is a missing service too.
    expect(() => assertProductionServices({ ...env, SMTP_URL: undefined })).toThrow(/set SMTP_URL \(/);
    // Any OpenAI-compatible server instead of OpenAI will do; no model at all will not.
    expect(() => assertProductionServices({ ...env, OPENAI_API_KEY: undefined, OPENAI_BASE_URL: "http://llm:8000/v1" })).not.toThrow();
    expect(() => assertProductionServices({ ...env, OPENAI_API_KEY: undefined })).toThrow(/set OPENAI_API_KEY or OPENAI_BASE_URL \(/);
  });
});

// The only reader of process.env in the app. Every variable is validated here once; a bad value throws
// at import with a message that names the variable, which fails `next build` and start-up alike.
import { z } from "zod";
import { STRIPE_SANDBOX_DEFAULT_PORT, UPSTASH_BRIDGE_DEFAULT_PORT } from "./local-services";

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const optionalUrl = optionalString.pipe(z.url().optional());

const flag = z
  .enum(["0", "1", "true", "false", ""])
  .optional()
  .transform((value) => value === "1" || value === "true");

/** A secret variable's secrets: one, or "new,old" during a rotation (empty parts dropped). */
export function secretList(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    /** Set by Next.js while `next build` runs; the production service check waits for `next start`. */
    NEXT_PHASE: optionalString,
    EMBEDDED_DEFAULTS: flag,

    /** The app's public URL. Unset in development, it is http://localhost:$PORT (3000 without PORT); see parseEnv. */
    APP_URL: optionalString.pipe(z.url().default("http://localhost:3000")),
    /** The port `next dev` / `next start` listen on (Next's own variable); in development APP_URL follows it. */
    PORT: optionalString.pipe(z.coerce.number<string>().int().min(1).max(65535).optional()),
    DATA_DIR: z.string().min(1).default(".data"),
    /** How many server processes serve the app at once (replicas behind a load balancer); above 1, nothing may live per process. */
    APP_INSTANCES: positiveInt(1),

    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
        .optional(),
    ),

    /** One secret, or during a rotation "new,old": the first signs new sessions, both read existing ones. */
    AUTH_SECRET: optionalString.pipe(
      z
        .string()
        .refine((value) => secretList(value).length <= 2, "holds at most two comma-separated secrets (new,old) during a rotation")
        .refine((value) => secretList(value).every((secret) => secret.length >= 32), "must be at least 32 characters (each secret)")
        .optional(),
    ),
    AUTH_GITHUB_ID: optionalString,
    AUTH_GITHUB_SECRET: optionalString,
    AUTH_GOOGLE_ID: optionalString,
    AUTH_GOOGLE_SECRET: optionalString,

    STRIPE_SECRET_KEY: optionalString.pipe(
      z.string().regex(/^(sk|rk)_(test|live)_/, "must be a Stripe secret key (sk_test_... or sk_live_...)").optional(),
    ),
    /** One signing secret, or during a rotation "new,old": a delivery signed with either is accepted. */
    STRIPE_WEBHOOK_SECRET: optionalString.pipe(
      z
        .string()
        .refine((value) => secretList(value).length <= 2, "holds at most two comma-separated secrets (new,old) during a rotation")
        .refine((value) => secretList(value).every((secret) => secret.startsWith("whsec_")), "must be a webhook signing secret (whsec_...)")
        .optional(),
    ),
    STRIPE_API_BASE: optionalUrl,
    STRIPE_MAX_NETWORK_RETRIES: nonNegativeInt(2),
    STRIPE_SANDBOX_PORT: positiveInt(STRIPE_SANDBOX_DEFAULT_PORT),
    /** The local Stripe sandbox's pace (npm run dev): mean latency and jitter in ms, API requests per second (0: none). */
    STRIPE_SANDBOX_LATENCY_MS: nonNegativeInt(0),
    STRIPE_SANDBOX_LATENCY_JITTER_MS: nonNegativeInt(0),
    STRIPE_SANDBOX_RATE_LIMIT: nonNegativeInt(0),
    /** Seconds of access kept after a period ends, so a renewal that lands late does not lock a payer out. */
    BILLING_GRACE_SECONDS: nonNegativeInt(60 * 60 * 24),
    /** Tokens per billing period for the default paid plan; other plans scale from it. */
    CHAT_TOKEN_BUDGET: positiveInt(1_000_000),
    /** Days a bought credit pack's tokens stay spendable (a year by default). */
    CREDIT_PACK_EXPIRY_DAYS: positiveInt(365),

    UPSTASH_REDIS_REST_URL: optionalUrl,
    UPSTASH_REDIS_REST_TOKEN: optionalString,
    UPSTASH_BRIDGE_PORT: positiveInt(UPSTASH_BRIDGE_DEFAULT_PORT),
    REDIS_URL: optionalString.pipe(
      z
        .string()
        .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
        .optional(),
    ),

    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: optionalUrl,
    CHAT_MODEL: optionalString,
    /** Milliseconds between words streamed by the local demo model (0 for benchmarks). */
    DEMO_MODEL_DELAY_MS: nonNegativeInt(25),
    /** Longest the chat model may stay silent (before its first token, or between two) before the answer fails. */
    CHAT_MODEL_SILENCE_TIMEOUT_MS: positiveInt(30_000),
    /** How many proxies in front of the app append to X-Forwarded-For; 0 ignores the header (see server/auth/throttle.ts). */
    TRUSTED_PROXY_HOPS: nonNegativeInt(0),
    /** 1: account deletion keeps the Stripe customer (scrubbed of email, name, address, phone) instead of deleting it. */
    STRIPE_KEEP_DELETED_CUSTOMERS: flag,
    /** 1: Checkout Sessions ask Stripe Tax to compute tax (`automatic_tax`); the account needs Stripe Tax set up. */
    STRIPE_AUTOMATIC_TAX: flag,
    /** 1: Checkout never starts a free trial (the plans' `trialDays` are ignored); unset, a plan's trial is offered. */
    STRIPE_NO_TRIALS: flag,
    /** 1: metered overage (Stripe Billing Meters): past the budget, a subscriber chats on up to the spending cap they set. */
    BILLING_OVERAGE: flag,

    /** Where every email goes: smtp(s)://user:pass@host:port of any provider; unset, the local inbox (sandbox/mail). */
    SMTP_URL: optionalString.pipe(
      z
        .string()
        .regex(/^smtps?:\/\//, "must start with smtp:// or smtps://")
        .optional(),
    ),
    MAIL_FROM: z.string().trim().min(3).default("Hourglass <hello@localhost>"),
    MAIL_SANDBOX_SMTP_PORT: positiveInt(1025),
    MAIL_SANDBOX_PORT: positiveInt(8025),

    /** Least severe log level written (pino's levels); "silent" writes nothing. */
    LOG_LEVEL: optionalString.pipe(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info")),
    /** OTLP/HTTP collector base URL (http://collector:4318): traces go to <url>/v1/traces. Unset: no tracing export. */
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" }).optional()),
    /** The service.name traces carry. */
    OTEL_SERVICE_NAME: optionalString.pipe(z.string().default("hourglass")),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.UPSTASH_REDIS_REST_URL) !== Boolean(env.UPSTASH_REDIS_REST_TOKEN)) {
      ctx.addIssue({
        code: "custom",
        path: [env.UPSTASH_REDIS_REST_URL ? "UPSTASH_REDIS_REST_TOKEN" : "UPSTASH_REDIS_REST_URL"],
        message: "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together",
      });
    }
    if (Boolean(env.AUTH_GITHUB_ID) !== Boolean(env.AUTH_GITHUB_SECRET)) {
      ctx.addIssue({
        code: "custom",
        path: [env.AUTH_GITHUB_ID ? "AUTH_GITHUB_SECRET" : "AUTH_GITHUB_ID"],
        message: "AUTH_GITHUB_ID and AUTH_GITHUB_SECRET must be set together",
      });
    }
    if (Boolean(env.AUTH_GOOGLE_ID) !== Boolean(env.AUTH_GOOGLE_SECRET)) {
      ctx.addIssue({
        code: "custom",
        path: [env.AUTH_GOOGLE_ID ? "AUTH_GOOGLE_SECRET" : "AUTH_GOOGLE_ID"],
        message: "AUTH_GOOGLE_ID and AUTH_GOOGLE_SECRET must be set together",
      });
    }
    if (env.STRIPE_SECRET_KEY && !env.STRIPE_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["STRIPE_WEBHOOK_SECRET"],
        message: "is required when STRIPE_SECRET_KEY is set (copy it from the Stripe dashboard or `stripe listen`)",
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(issues: readonly z.core.$ZodIssue[]) {
    const lines = issues.map((issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    super(`Invalid environment variables:\n${lines.join("\n")}\nSee .env.example for what each one means.`);
    this.name = "EnvError";
  }
}

/**
 * In development an unset APP_URL follows PORT, so `PORT=3100 npm run dev` serves, redirects (Checkout, the
 * portal, email links) and receives the sandbox's webhooks on 3100 alike. Production always names its URL.
 */
export function withDevelopmentDefaults(source: Record<string, string | undefined>): Record<string, string | undefined> {
  const development = (source.NODE_ENV ?? "development") === "development";
  const port = source.PORT?.trim();
  if (!development || !port || source.APP_URL?.trim()) return source;
  return { ...source, APP_URL: `http://localhost:${port}` };
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(withDevelopmentDefaults(source));
  if (!result.success) throw new EnvError(result.error.issues);
  return result.data;
}

export const env: Env = parseEnv(process.env);

/** Fixed, public development credentials for the embedded Stripe sandbox (defined once, in lib/local-services). */
export { SANDBOX_SECRET_KEY, SANDBOX_WEBHOOK_SECRET } from "./local-services";

/** True when Stripe calls go to the local sandbox rather than api.stripe.com. */
export function usesStripeSandbox(current: Env = env): boolean {
  return !current.STRIPE_SECRET_KEY;
}

/** The SMTP server mail goes to: SMTP_URL, else the local inbox on MAIL_SANDBOX_SMTP_PORT. */
export function smtpUrl(current: Env = env): string {
  return current.SMTP_URL ?? `smtp://127.0.0.1:${current.MAIL_SANDBOX_SMTP_PORT}`;
}

/** Which real services are missing; a production server refuses to start with any unless EMBEDDED_DEFAULTS=1. */
export function missingProductionServices(current: Env = env): string[] {
  const missing: string[] = [];
  if (!current.DATABASE_URL) missing.push("DATABASE_URL");
  if (!current.STRIPE_SECRET_KEY) missing.push("STRIPE_SECRET_KEY");
  if (!current.UPSTASH_REDIS_REST_URL) missing.push("UPSTASH_REDIS_REST_URL");
  if (!current.AUTH_SECRET) missing.push("AUTH_SECRET");
  // Without either, paying users would chat with the offline demo model.
  if (!current.OPENAI_API_KEY && !current.OPENAI_BASE_URL) missing.push("OPENAI_API_KEY or OPENAI_BASE_URL");
  // Without it, verification, password reset and billing emails would go to a local inbox nobody reads.
  if (!current.SMTP_URL) missing.push("SMTP_URL");
  return missing;
}

export function assertProductionServices(current: Env = env): void {
  if (current.NODE_ENV !== "production" || current.EMBEDDED_DEFAULTS) return;
  if (current.NEXT_PHASE === "phase-production-build") return;
  const missing = missingProductionServices(current);
  if (missing.length > 0) {
    throw new Error(
      `Production start without real services: set ${missing.join(", ")} ` +
        "(or EMBEDDED_DEFAULTS=1 to run on the embedded development defaults, for demos and tests only).",
    );
  }
}

/**
 * The embedded stand-ins this environment runs on, each named with what it means in production and the variable
 * that replaces it. `npm start` with EMBEDDED_DEFAULTS=1 prints them all at start-up (see embeddedDefaultsWarning).
 */
export function embeddedStandIns(current: Env = env): string[] {
  const standIns: string[] = [];
  if (!current.DATABASE_URL) standIns.push(`embedded database: PGlite in ${current.DATA_DIR}/pglite, one process only (set DATABASE_URL)`);
  if (!current.STRIPE_SECRET_KEY) {
    const base = current.STRIPE_API_BASE ?? `http://127.0.0.1:${current.STRIPE_SANDBOX_PORT}`;
    standIns.push(`Stripe sandbox at ${base} with its public test key: no real payments (set STRIPE_SECRET_KEY)`);
  }
  if (!current.UPSTASH_REDIS_REST_URL) {
    standIns.push("in-process budget store: one budget per server process, N instances give N budgets (set UPSTASH_REDIS_REST_URL)");
  }
  if (!current.OPENAI_API_KEY && !current.OPENAI_BASE_URL) standIns.push("demo model: canned offline answers (set OPENAI_API_KEY or OPENAI_BASE_URL)");
  if (!current.AUTH_SECRET) standIns.push(`generated AUTH_SECRET in ${current.DATA_DIR}/auth-secret, one per data dir (set AUTH_SECRET)`);
  return standIns;
}

/** The loud start-up warning of a production server running on stand-ins (EMBEDDED_DEFAULTS=1); null otherwise. */
export function embeddedDefaultsWarning(current: Env = env): string | null {
  if (current.NODE_ENV !== "production" || !current.EMBEDDED_DEFAULTS || current.NEXT_PHASE === "phase-production-build") return null;
  const standIns = embeddedStandIns(current);
  if (standIns.length === 0) return null;
  const rule = "!".repeat(100);
  return [
    rule,
    `!! EMBEDDED_DEFAULTS=1: this production server runs on ${standIns.length} development stand-in(s). For demos and tests only:`,
    ...standIns.map((standIn) => `!!   - ${standIn}`),
    rule,
  ].join("\n");
}

/**
 * What keeps state in one process and so cannot be shared by APP_INSTANCES > 1 servers, each with the variable that
 * replaces it. The in-process budget store would give each server its own budget (N servers, N budgets: overspent),
 * and with it the sign-in throttle's counters; an embedded PGlite is one process's database; a generated AUTH_SECRET
 * is one per data dir, so a session made on one server would be refused by the next.
 */
export function perProcessStandIns(current: Env = env): string[] {
  if (current.APP_INSTANCES <= 1) return [];
  const standIns: string[] = [];
  if (!current.UPSTASH_REDIS_REST_URL) {
    standIns.push("the in-process token budget store and sign-in throttle (set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)");
  }
  if (!current.DATABASE_URL) standIns.push("the embedded PGlite database (set DATABASE_URL)");
  if (!current.AUTH_SECRET) standIns.push("a generated AUTH_SECRET (set AUTH_SECRET, the same on every server)");
  return standIns;
}

/**
 * More than one server (APP_INSTANCES > 1) never starts on per-process state, in any mode and whatever
 * EMBEDDED_DEFAULTS says: every server would run its own budget, and the budget would be overspent N times over.
 */
export function assertSharedStateForInstances(current: Env = env): void {
  if (current.NEXT_PHASE === "phase-production-build") return;
  const standIns = perProcessStandIns(current);
  if (standIns.length === 0) return;
  throw new Error(
    `APP_INSTANCES=${current.APP_INSTANCES}: ${current.APP_INSTANCES} servers cannot share state kept in one process: ` +
      `${standIns.join("; ")}. Set them, or APP_INSTANCES=1 for a single server.`,
  );
}

/**
 * A production server never signs sessions with a generated secret, even with EMBEDDED_DEFAULTS=1: every instance
 * (or data dir) would mint its own, and a lost data dir silently signs everyone out. The build is let through.
 */
export function assertProductionAuthSecret(current: Env = env): void {
  if (current.NODE_ENV !== "production" || current.NEXT_PHASE === "phase-production-build" || current.AUTH_SECRET) return;
  throw new Error(
    "Production start without AUTH_SECRET: a generated secret is refused in production, even with EMBEDDED_DEFAULTS=1. " +
      "Set AUTH_SECRET (32+ characters, e.g. `openssl rand -base64 32`).",
  );
}

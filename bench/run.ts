// `npm run bench`: measures Hourglass against its production build (`npm run build` first) and writes
// bench/results/<date>.json + .md. Real Postgres / Redis from DATABASE_URL / REDIS_URL, embedded otherwise (said so
// in the report). Every figure is the median of several runs and is paired with a reference measured in the same
// run (the trivial route GET /api/health, a bare Redis round trip, a no-op budget store), so ratios survive a noisy
// machine.
// Flags: --only=storm|main (default both), --runs=N (default 3), --skip-dev (leave out timing `npm run dev` from a cold .next/dev to the first 200
// on /; that step deletes .next/dev, and refuses to while a `next dev` of this checkout holds its lock).
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { count } from "drizzle-orm";
import postgres from "postgres";
import Stripe from "stripe";
import { Redis as IORedis } from "ioredis";
import { medianRun, median, round, timed, type RunResult } from "./stats";
import { startBystander, type Bystander } from "./bystander";
import { measureDevStartup, type DevStartup } from "./dev-startup";
import { httpRequest, signIn } from "./http";
import { runStorm, stormMarkdown, stormTargets, STORM_SUBSCRIPTIONS, type StormResults } from "./storm";

const args = process.argv.slice(2);
const RUNS = Number(args.find((a) => a.startsWith("--runs="))?.split("=")[1] ?? 3);
const SKIP_DEV = args.includes("--skip-dev");
// --only=storm runs the renewal storm alone (it takes a machine to itself best); --only=main everything else.
const ONLY = args.find((a) => a.startsWith("--only="))?.split("=")[1]?.split(",") ?? ["main", "storm"];
const WEBHOOK_SECRET = "whsec_hourglass_bench";
const CUSTOMERS = 60;
const EVENTS_PER_RUN = 240;
const CHAT_USER_PASSWORD = "bench-chat-password";
const CHAT_BODY = JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "How does the token budget work?" }] }] });

const realPostgres = process.env.DATABASE_URL ?? null;
const realRedis = process.env.REDIS_URL ?? null;
const cleanups: Array<() => Promise<void> | void> = [];
const log = (message: string) => console.log(`[bench] ${message}`);

// ---- Database: a fresh migrated Postgres database, or a PGlite directory the app will open after us. -------------
let adminSql: ReturnType<typeof postgres> | null = null;
let dataDir: string | null = null;
if (realPostgres) {
  const name = `hourglass_bench_${Date.now()}`;
  adminSql = postgres(realPostgres, { max: 1, onnotice: () => {} });
  await adminSql.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(realPostgres);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
  cleanups.push(async () => {
    await adminSql?.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await adminSql?.end();
  });
} else {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bench-"));
  process.env.DATA_DIR = dataDir;
  cleanups.push(() => fs.rmSync(dataDir ?? "", { recursive: true, force: true }));
}

// ---- Stripe: the bench's own sandbox (the app reaches it as "Stripe"); events are posted by the bench itself. ------
const { startStripeSandbox } = await import("../sandbox/stripe");
const sandbox = await startStripeSandbox({ port: 0, autoTestClock: true });
cleanups.push(() => sandbox.close());
process.env.STRIPE_SECRET_KEY = "sk_test_hourglass_bench";
process.env.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET;
process.env.STRIPE_API_BASE = sandbox.url;
const stripe = new Stripe("sk_test_hourglass_bench", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });

// App modules read the environment at import: only now.
const { openDatabase } = await import("../db/client");
const { insertUser, findUserById } = await import("../db/queries/users");
const { hashPassword } = await import("../server/auth/password");
const { linkStripeCustomer } = await import("../db/queries/billing");
const { stripeEvents } = await import("../db/schema");
const { env } = await import("../lib/env");
const { setupStripe } = await import("../server/billing/setup-stripe");
const { plans } = await import("../server/billing/plans");
const { subscriptionState, pickCurrentSubscription } = await import("../server/billing/sync-subscription");
const { isHandledEvent } = await import("../server/billing/webhooks/handlers");
const { createMemoryBudgetStore, createUpstashBudgetStore } = await import("../server/usage");
const { startChat } = await import("../server/chat/chat-request");
const { errorResponse } = await import("../server/errors");
// What POST /api/chat does: start the chat, and map a thrown AppError to its response.
const handleChatRequest = (...args: Parameters<typeof startChat>) => startChat(...args).catch((error: unknown) => errorResponse(error));
const { createDemoModel } = await import("../server/chat/demo-model");
const { startUpstashBridge } = await import("../sandbox/upstash");
const { Redis: UpstashRedis } = await import("@upstash/redis");
const { startAppStack } = await import("../scripts/app-stack");

function openAppDatabase() {
  return realPostgres
    ? openDatabase({ kind: "postgres", url: process.env.DATABASE_URL ?? "", migrate: true, maxConnections: 4 })
    : openDatabase({ kind: "pglite", dataDir: path.join(dataDir ?? "", "pglite"), migrate: true });
}

async function run() {
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
    services: {
      database: realPostgres ? "Postgres (DATABASE_URL)" : "embedded PGlite (DATABASE_URL not set)",
      budgetStore: realRedis ? "Upstash store -> bridge -> Redis (REDIS_URL)" : "in-process store (REDIS_URL not set)",
      stripe: "local Stripe sandbox",
    },
    runs: RUNS,
  };
  const targets: Array<{ target: string; value: unknown; met: boolean | null }> = [];
  if (ONLY.includes("main")) targets.push(...(await measureMain(results)));
  if (ONLY.includes("storm")) {
    const storm = await measureStorm();
    results.storm = storm;
    targets.push(...stormTargets(storm));
  }
  results.parts = ONLY;
  results.targets = targets;
  return results;
}

async function measureMain(results: Record<string, unknown>) {

  // ---- Customers with real histories in the sandbox, linked to users in the app's database. ------------------------
  log(`creating ${CUSTOMERS} customers and their lifecycles in the sandbox`);
  await setupStripe(stripe);
  const prices = {
    starter: (await stripe.prices.list({ lookup_keys: [plans.starter.lookupKey] })).data[0]?.id ?? "",
    pro: (await stripe.prices.list({ lookup_keys: [plans.pro.lookupKey] })).data[0]?.id ?? "",
  };
  const database = await openAppDatabase();
  const customers: Array<{ userId: string; customerId: string; email: string }> = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    // Customer 0 stays subscribed (renewed, never cancelled) and signs in over HTTP for the /api/chat figure.
    const passwordHash = i === 0 ? await hashPassword(CHAT_USER_PASSWORD) : "x";
    const user = await insertUser(database.db, { email: `bench${i}-${Date.now()}@example.com`, name: `Bench ${i}`, passwordHash });
    const customer = await stripe.customers.create({ email: user.email, metadata: { userId: user.id } });
    await linkStripeCustomer(database.db, user.id, customer.id);
    customers.push({ userId: user.id, customerId: customer.id, email: user.email });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: i % 2 ? prices.pro : prices.starter, quantity: 1 }],
      success_url: "http://127.0.0.1/account",
      client_reference_id: user.id,
    });
    const completed = await fetch(`${sandbox.url}/_sandbox/checkout/sessions/${session.id}/complete`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ card: "4242424242424242", name: "Bench", "address[line1]": "1 Way", "address[city]": "London", "address[postal_code]": "N1", "address[country]": "GB" }),
    });
    await completed.arrayBuffer();
    const sub = pickCurrentSubscription((await stripe.subscriptions.list({ customer: customer.id, status: "all" })).data);
    if (!sub) throw new Error("checkout made no subscription");
    const item = sub.items.data[0];
    if (i % 3 === 0) await stripe.subscriptions.update(sub.id, { items: [{ id: item?.id, price: i % 2 ? prices.starter : prices.pro }] });
    if (i % 2 === 0) {
      const clock = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
      const clockId = typeof clock.test_clock === "string" ? clock.test_clock : (clock.test_clock?.id ?? "");
      await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: (item?.current_period_end ?? 0) + 86_400 });
      while ((await stripe.testHelpers.testClocks.retrieve(clockId)).status !== "ready") await new Promise((r) => setTimeout(r, 10));
    }
    if (i % 5 === 1) await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    if (i % 7 === 3) await stripe.subscriptions.cancel(sub.id);
  }
  await database.close();
  const events = (await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 })).filter(isHandledEvent);
  const mix: Record<string, number> = {};
  for (const event of events) mix[event.type] = (mix[event.type] ?? 0) + 1;
  log(`${events.length} handled events: ${JSON.stringify(mix)}`);

  // ---- The production server. ----------------------------------------------------------------------------------------
  log("starting the production server (next start)");
  const stack = await startAppStack({ appEnv: { DEMO_MODEL_DELAY_MS: "0", ...(dataDir ? { DATA_DIR: dataDir } : {}) } });
  let stackStopped = false;
  cleanups.unshift(async () => {
    if (!stackStopped) await stack.stop();
  });
  const base = stack.baseUrl;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const request = (method: "GET" | "POST", url: string, body?: string, headers: Record<string, string> = {}) =>
    httpRequest(agent, method, url, body, headers);
  // Warm both routes (first requests compile nothing in production, but open the database and clients).
  const trivialRoute = `${base}/api/health`;
  for (let i = 0; i < 20; i++) await request("GET", trivialRoute);

  // ---- 1. Webhooks vs the trivial route. ---------------------------------------------------------------------------
  // Two orders of the same events: as Stripe emits them (a customer's events come together: a checkout sends four
  // or five within a second) and interleaved, no two neighbours about one customer (no bursts to coalesce).
  const customerOf = (event: (typeof events)[number]) => {
    const customer = event.data.object.customer;
    return typeof customer === "string" ? customer : (customer?.id ?? "");
  };
  const byCustomer = new Map<string, typeof events>();
  for (const event of events) byCustomer.set(customerOf(event), [...(byCustomer.get(customerOf(event)) ?? []), event]);
  const interleaved: typeof events = [];
  for (let i = 0; interleaved.length < events.length; i++) {
    for (const list of byCustomer.values()) {
      const event = list[i];
      if (event) interleaved.push(event);
    }
  }
  // Each order walks its own list, not the run's index, so every event (and so every customer) is posted across
  // runs; one sequence across all of them keeps every posted event id new (a repeated id is a duplicate no-op).
  let sequence = 0;
  const poster = (order: typeof events) => {
    let position = 0;
    return async () => {
      const event = order[position++ % order.length];
      const payload = JSON.stringify({ ...event, id: `${event?.id}_bench${sequence++}` });
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      return (await request("POST", `${base}/api/webhooks/stripe`, payload, { "stripe-signature": signature })).status === 200;
    };
  };
  const trivial = async () => (await request("GET", trivialRoute)).status === 200;
  await timed(60, 4, poster(events)); // warm-up
  const webhooks: Record<string, WebhookFigures> = {};
  // Syncs of one customer share a read in flight (server/billing/stripe-reads.ts): how often, is counted on the
  // sandbox, as Stripe reads per event.
  const stripeReads = () => sandbox.apiRequests("GET", "/v1/subscriptions");
  const runs: Array<[string, number, () => Promise<boolean>]> = [
    ["c1", 1, poster(events)],
    ["c4", 4, poster(events)],
    ["c16", 16, poster(events)],
    ["c16 interleaved", 16, poster(interleaved)],
  ];
  for (const [name, concurrency, postEvent] of runs) {
    const eventRuns: RunResult[] = [];
    const ceilingRuns: RunResult[] = [];
    const readsBefore = stripeReads();
    for (let r = 0; r < RUNS; r++) {
      ceilingRuns.push(await timed(EVENTS_PER_RUN, concurrency, trivial));
      eventRuns.push(await timed(EVENTS_PER_RUN, concurrency, postEvent));
    }
    const e = medianRun(eventRuns);
    const c = medianRun(ceilingRuns);
    const stripeReadsPerEvent = (stripeReads() - readsBefore) / (RUNS * EVENTS_PER_RUN);
    webhooks[name] = { events: e, ceiling: c, ratio: e.opsPerSec / c.opsPerSec, stripeReadsPerEvent };
    log(`webhooks ${name}: ${round(e.opsPerSec, 0)} events/s p50 ${round(e.p50)} p95 ${round(e.p95)} p99 ${round(e.p99)} ms (errors ${e.errors}); ceiling ${round(c.opsPerSec, 0)} req/s; ratio ${round(e.opsPerSec / c.opsPerSec)}; Stripe reads per event ${round(stripeReadsPerEvent)}`);
  }

  // ---- 4b. TTFB of /pricing vs the trivial route. ----------------------------------------------------------------------
  const ttfb = async (url: string) => {
    const samples: number[] = [];
    for (let i = 0; i < 100; i++) samples.push((await request("GET", url)).ttfbMs);
    return median(samples);
  };
  const pricingTtfb: number[] = [];
  const trivialTtfb: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    pricingTtfb.push(await ttfb(`${base}/pricing`));
    trivialTtfb.push(await ttfb(trivialRoute));
  }
  // ---- 3b. The real route over HTTP: session cookie, entitlement from the database, budget, demo model at 0 delay. -------
  const chatCustomer = customers[0];
  if (!chatCustomer) throw new Error("no customers");
  const sessionCookie = await signIn(base, chatCustomer.email, CHAT_USER_PASSWORD);
  // Origin as the browser sends it: the app refuses cross-origin writes.
  const chatOverHttp = async () => (await request("POST", `${base}/api/chat`, CHAT_BODY, { cookie: sessionCookie, origin: new URL(base).origin })).status === 200;
  await timed(30, 1, chatOverHttp); // warm-up
  const chatHttpRuns: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) chatHttpRuns.push(await timed(200, 1, chatOverHttp));
  const chatHttp = medianRun(chatHttpRuns);
  if (chatHttp.errors > 0) throw new Error(`/api/chat over HTTP: ${chatHttp.errors} requests were not answered 200`);
  log(`chat over HTTP: p50 ${round(chatHttp.p50)} p99 ${round(chatHttp.p99)} ms`);

  agent.destroy();
  await stack.stop();
  stackStopped = true;

  // ---- 1b. Mismatches between the database and the sandbox, per customer. ------------------------------------------------
  const check = await openAppDatabase();
  const mismatches = await findMismatches(check.db, customers);
  // Every posted event must have been new and processed: a duplicate would be a no-op and flatter the figures.
  const [recorded] = await check.db.select({ value: count() }).from(stripeEvents);
  if (recorded?.value !== sequence) throw new Error(`posted ${sequence} distinct events but ${recorded?.value} were recorded`);
  await check.close();
  log(`mismatches after the webhook runs: ${mismatches.length}; events recorded ${recorded.value} of ${sequence} posted`);
  results.webhooks = { eventsPerRun: EVENTS_PER_RUN, handledEventMix: mix, customers: CUSTOMERS, byConcurrency: webhooks, mismatches: mismatches.length, mismatchDetails: mismatches.slice(0, 10) };

  // ---- 2. Budget: reserve + settle through the Upstash store and in-process, vs a bare Redis PING. -------------------
  const periodEnd = new Date(Date.now() + 86_400_000);
  // As the app runs it: every change written to its budgets file.
  const budgetsDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bench-budgets-"));
  cleanups.push(() => fs.rmSync(budgetsDir, { recursive: true, force: true }));
  const memory = createMemoryBudgetStore({ file: path.join(budgetsDir, "budgets.json") });
  let upstash: ReturnType<typeof createUpstashBudgetStore> | null = null;
  let ioredis: IORedis | null = null;
  const benchUsers: string[] = [];
  if (realRedis) {
    const token = `bench-${crypto.randomUUID()}`;
    const bridge = await startUpstashBridge({ port: 0, redisUrl: realRedis, token });
    cleanups.unshift(() => bridge.close());
    upstash = createUpstashBudgetStore(new UpstashRedis({ url: bridge.url, token, enableTelemetry: false, retry: { retries: 2, backoff: (n) => 50 * 2 ** n } }));
    ioredis = new IORedis(realRedis);
    cleanups.unshift(async () => {
      for (const userId of [...benchUsers, ...customers.map((c) => c.userId)]) {
        const keys = await ioredis?.keys(`chatbot-usage:${userId}*`);
        if (keys && keys.length > 0) await ioredis?.del(...keys);
      }
      ioredis?.disconnect();
    });
  }
  const reserveSettle = (store: typeof memory, userId: string) => async () => {
    const requestId = crypto.randomUUID();
    const reserved = await store.reserve(userId, requestId, 1_500);
    if (!reserved.ok) return false;
    await store.settle(userId, requestId, 700);
    return true;
  };
  const budget: Record<string, unknown> = {};
  const stores: Array<[string, typeof memory]> = [["in-process (budgets file)", memory], ...(upstash ? ([["upstash via bridge", upstash]] as Array<[string, typeof memory]>) : [])];
  const pingRuns = { c1: [] as RunResult[], c16: [] as RunResult[] };
  const storeRuns: Record<string, { c1: RunResult[]; c16: RunResult[] }> = {};
  for (const [name] of stores) storeRuns[name] = { c1: [], c16: [] };
  for (let r = 0; r < RUNS; r++) {
    if (ioredis) {
      pingRuns.c1.push(await timed(500, 1, async () => (await ioredis.ping()) === "PONG"));
      pingRuns.c16.push(await timed(2_000, 16, async () => (await ioredis.ping()) === "PONG"));
    }
    for (const [name, store] of stores) {
      const userId = `bench-budget-${crypto.randomUUID()}`;
      benchUsers.push(userId);
      await store.reset(userId, 1_000_000_000, periodEnd);
      storeRuns[name]?.c1.push(await timed(500, 1, reserveSettle(store, userId)));
      storeRuns[name]?.c16.push(await timed(2_000, 16, reserveSettle(store, userId)));
    }
  }
  const ping = ioredis ? { c1: medianRun(pingRuns.c1), c16: medianRun(pingRuns.c16) } : null;
  for (const [name, store] of stores) {
    const c1 = medianRun(storeRuns[name]?.c1 ?? []);
    const c16 = medianRun(storeRuns[name]?.c16 ?? []);
    // Overspend: 64 requests at a time each reserving 4,000 tokens and using all of it, against a 100,000 budget.
    const userId = `bench-overspend-${crypto.randomUUID()}`;
    benchUsers.push(userId);
    await store.reset(userId, 100_000, periodEnd);
    let granted = 0;
    await timed(400, 64, async () => {
      const requestId = crypto.randomUUID();
      const reserved = await store.reserve(userId, requestId, 4_000);
      if (!reserved.ok) return true;
      granted += reserved.granted;
      await store.settle(userId, requestId, reserved.granted);
      return true;
    });
    const remaining = (await store.read(userId))?.tokensRemaining ?? NaN;
    budget[name] = {
      c1,
      c16,
      ratioToPing: ping ? { p50: c1.p50 / ping.c1.p50, opsPerSecC16: c16.opsPerSec / ping.c16.opsPerSec } : null,
      overspend: { budget: 100_000, granted, remaining, overspendTokens: Math.max(0, granted - 100_000) + Math.max(0, -remaining) },
    };
    log(`budget ${name}: c1 p50 ${round(c1.p50, 3)} p99 ${round(c1.p99, 3)} ms; c16 ${round(c16.opsPerSec, 0)} ops/s; overspend ${Math.max(0, granted - 100_000)}`);
  }
  if (ping) log(`redis PING: c1 p50 ${round(ping.c1.p50, 3)} ms; c16 ${round(ping.c16.opsPerSec, 0)} ops/s`);
  results.budget = { stores: budget, redisPing: ping ?? "not measured (REDIS_URL not set)" };

  // ---- 3. Chat route overhead: the real budget store vs a no-op store, demo model at 0 delay. -------------------------
  const realStore = upstash ?? memory;
  const noopStore: typeof memory = {
    reserve: async (_u, _r, upperBound) => ({ ok: true, granted: upperBound, tokensRemaining: 1_000_000 }),
    settle: async () => ({ applied: true, tokensRemaining: 1_000_000 }),
    reset: async () => ({ applied: true, tokensRemaining: 1_000_000 }),
    restore: async () => ({ applied: false, tokensRemaining: 1_000_000 }),
    read: async () => ({ tokensRemaining: 1_000_000, resetsAt: periodEnd }),
    forget: async () => {},
  };
  const chatUser = `bench-chat-${crypto.randomUUID()}`;
  benchUsers.push(chatUser);
  await realStore.reset(chatUser, 1_000_000_000, periodEnd);
  const model = createDemoModel({ delayMs: 0 });
  const chatOnce = (store: typeof memory) => async () => {
    const response = await handleChatRequest(new Request("http://app/api/chat", { method: "POST", body: CHAT_BODY }), { userId: chatUser }, {
      store,
      model,
      getEntitlement: async () => ({ active: true, tokenBudget: 1_000_000_000, periodEndsAt: periodEnd }),
      restoreBudget: async () => {},
    });
    await response.text();
    return response.status === 200;
  };
  await timed(50, 1, chatOnce(noopStore));
  await timed(50, 1, chatOnce(realStore));
  const chatReal: RunResult[] = [];
  const chatNoop: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) {
    chatNoop.push(await timed(300, 1, chatOnce(noopStore)));
    chatReal.push(await timed(300, 1, chatOnce(realStore)));
  }
  const withBudget = medianRun(chatReal);
  const withoutBudget = medianRun(chatNoop);
  results.chat = {
    store: upstash ? "upstash via bridge" : "in-process",
    withBudget,
    noopStore: withoutBudget,
    overheadP50Ms: withBudget.p50 - withoutBudget.p50,
    overheadP99Ms: withBudget.p99 - withoutBudget.p99,
    overHttp: chatHttp,
  };
  log(`chat: with budget p50 ${round(withBudget.p50)} p99 ${round(withBudget.p99)}; no-op p50 ${round(withoutBudget.p50)} p99 ${round(withoutBudget.p99)} ms`);

  // ---- 4. Pages: first-load JS from the build output, prerendering, TTFB. -------------------------------------------------
  const buildManifest = JSON.parse(fs.readFileSync(".next/build-manifest.json", "utf8")) as { rootMainFiles?: string[]; polyfillFiles?: string[] };
  const prerender = JSON.parse(fs.readFileSync(".next/prerender-manifest.json", "utf8")) as { routes: Record<string, unknown> };
  const gz = (file: string) => zlib.gzipSync(fs.readFileSync(path.join(".next", file))).length;
  const pages: Record<string, { firstLoadJsGzipKb: number; files: number; prerendered: boolean }> = {};
  for (const route of ["/pricing", "/account", "/chat"]) {
    const manifestFile = pageManifestFile(route);
    const holder = globalThis as typeof globalThis & { __RSC_MANIFEST?: Record<string, { entryJSFiles?: Record<string, string[]> }> };
    holder.__RSC_MANIFEST = {};
    new Function("self", "globalThis", fs.readFileSync(manifestFile, "utf8"))(holder, holder);
    const entry = Object.entries(holder.__RSC_MANIFEST).find(([key]) => key.replace(/\/\([^)]*\)/g, "") === `${route}/page`)?.[1];
    if (!entry?.entryJSFiles) throw new Error(`${manifestFile} has no entry files for ${route}/page`);
    const files = new Set<string>([...(buildManifest.rootMainFiles ?? [])]);
    for (const chunkList of Object.entries(entry.entryJSFiles)) {
      const [segment, list] = chunkList;
      // The route's manifest holds its own chain: the page and every layout above it (route groups included).
      if (segment.endsWith("/page") || segment.endsWith("/layout")) for (const file of list) files.add(file);
    }
    const bytes = [...files].reduce((sum, file) => sum + gz(file), 0);
    pages[route] = { firstLoadJsGzipKb: bytes / 1024, files: files.size, prerendered: route in prerender.routes };
    log(`page ${route}: first-load JS ${round(bytes / 1024, 1)} kB gzipped (${files.size} files), prerendered ${route in prerender.routes}`);
  }
  results.pages = { routes: pages, pricingTtfbP50Ms: median(pricingTtfb), trivialRouteTtfbP50Ms: median(trivialTtfb) };

  // ---- 5. Start-up of `next dev` (opt-in). ------------------------------------------------------------------------------
  results.devStartup = SKIP_DEV ? "not measured (--skip-dev)" : await measureDevStartup(RUNS, log);

  // ---- Targets. -----------------------------------------------------------------------------------------------------------
  const c16 = webhooks.c16;
  const spread = webhooks["c16 interleaved"];
  const bridgeBudget = budget["upstash via bridge"] as { ratioToPing: { p50: number } | null } | undefined;
  const bridgeRatio = bridgeBudget?.ratioToPing?.p50 ?? null;
  const chat = results.chat as { overheadP50Ms: number; noopStore: RunResult };
  const chatShare = chat.overheadP50Ms / chat.noopStore.p50;
  const pricing = pages["/pricing"];
  const overspends = Object.values(budget).map((b) => (b as { overspend: { overspendTokens: number } }).overspend.overspendTokens);
  return [
    // Every target is a ratio against a reference measured in the same run, so it holds on any machine.
    { target: "webhooks >= 1/4 of the trivial-route ceiling (req/s) at c=16", value: c16?.ratio, met: (c16?.ratio ?? 0) >= 0.25 },
    { target: "webhooks p99 <= 12x the trivial route's p99 at c=16", value: c16 ? c16.events.p99 / c16.ceiling.p99 : NaN, met: c16 ? c16.events.p99 / c16.ceiling.p99 <= 12 : false },
    { target: "interleaved across customers: >= 1/4 of the ceiling", value: spread?.ratio, met: (spread?.ratio ?? 0) >= 0.25 },
    { target: "interleaved: p99 <= 12x the trivial route's p99", value: spread ? spread.events.p99 / spread.ceiling.p99 : NaN, met: spread ? spread.events.p99 / spread.ceiling.p99 <= 12 : false },
    { target: "0 mismatches between database and sandbox", value: mismatches.length, met: mismatches.length === 0 },
    {
      target: "budget reserve+settle p50 through the bridge <= 20x a bare Redis PING p50",
      value: bridgeRatio ?? "not measured (REDIS_URL not set)",
      met: bridgeRatio === null ? null : bridgeRatio <= 20,
    },
    { target: "0 tokens overspent at the highest concurrency", value: Math.max(...overspends), met: overspends.every((o) => o === 0) },
    { target: "chat: the budget adds <= 1/2 of the request's p50 with a no-op store", value: chatShare, met: chatShare <= 0.5 },
    { target: "/pricing prerendered", value: pricing?.prerendered, met: pricing?.prerendered === true },
    { target: "/pricing first-load JS < 150 kB (gzipped)", value: pricing?.firstLoadJsGzipKb, met: (pricing?.firstLoadJsGzipKb ?? Infinity) < 150 },
  ];
}

/** Differences between the database and the sandbox's current subscription, per customer. */
async function findMismatches(db: Awaited<ReturnType<typeof openAppDatabase>>["db"], customers: Array<{ userId: string; customerId: string }>) {
  const mismatches: string[] = [];
  for (const { userId, customerId } of customers) {
    const truth = pickCurrentSubscription((await stripe.subscriptions.list({ customer: customerId, status: "all", limit: 100 })).data);
    const row = await findUserById(db, userId);
    if (!truth || !row) {
      mismatches.push(`${customerId}: missing`);
      continue;
    }
    const expected = subscriptionState(truth, env.BILLING_GRACE_SECONDS);
    const fields = Object.keys(expected) as Array<keyof typeof expected>;
    const differing = fields.filter((field) => {
      const a = expected[field];
      const b = row[field];
      return a instanceof Date || b instanceof Date ? (a as Date | null)?.getTime() !== (b as Date | null)?.getTime() : a !== b;
    });
    // plan_expires of an ended subscription without ended_at would use "now": not the case in the sandbox.
    if (differing.length > 0) mismatches.push(`${customerId}: ${differing.join(", ")}`);
  }
  return mismatches;
}

/**
 * The renewal storm (bench/storm.ts) on its own production server: 60 subscribers and a signed-in bystander,
 * their purchases synced first (untimed), then three storms. Needs a real Postgres: the mismatch check reads the
 * database while the server runs, which an embedded PGlite (one process at a time) cannot allow.
 */
async function measureStorm(): Promise<StormResults> {
  if (!realPostgres) throw new Error("The storm needs DATABASE_URL (a real Postgres): set it, or run --only=main.");
  log(`storm: creating ${STORM_SUBSCRIPTIONS} subscribers and a bystander`);
  await setupStripe(stripe);
  const price = (await stripe.prices.list({ lookup_keys: [plans.starter.lookupKey] })).data[0]?.id ?? "";
  const newest = (await stripe.events.list({ limit: 1 })).data[0]?.id;
  const database = await openAppDatabase();
  const subscribers: Array<{ userId: string; customerId: string }> = [];
  let bystanderEmail = "";
  for (let i = 0; i <= STORM_SUBSCRIPTIONS; i++) {
    const isBystander = i === STORM_SUBSCRIPTIONS;
    const email = `storm${i}-${Date.now()}@example.com`;
    const passwordHash = isBystander ? await hashPassword(CHAT_USER_PASSWORD) : "x";
    const user = await insertUser(database.db, { email, name: `Storm ${i}`, passwordHash });
    const customer = await stripe.customers.create({ email, metadata: { userId: user.id } });
    await linkStripeCustomer(database.db, user.id, customer.id);
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price, quantity: 1 }],
      success_url: "http://127.0.0.1/account",
      client_reference_id: user.id,
    });
    await completeCheckout(session.id);
    if (isBystander) bystanderEmail = email;
    else subscribers.push({ userId: user.id, customerId: customer.id });
  }
  const setupEvents: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    if (event.id === newest) break;
    setupEvents.push(event);
  }
  setupEvents.reverse();

  log("storm: starting the production server (next start)");
  const stack = await startAppStack({ appEnv: { DEMO_MODEL_DELAY_MS: "0" } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let bystander: Bystander | null = null;
  try {
    const post = (payload: string, signature: string) =>
      httpRequest(agent, "POST", `${stack.baseUrl}/api/webhooks/stripe`, payload, { "stripe-signature": signature }).then((r) => r.status);
    await timed(setupEvents.length, 8, async (index) => {
      const event = setupEvents[index];
      const payload = JSON.stringify({ ...event, id: `${event?.id}_setup` });
      return (await post(payload, stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }))) === 200;
    });
    const cookie = await signIn(stack.baseUrl, bystanderEmail, CHAT_USER_PASSWORD);
    bystander = startBystander(`${stack.baseUrl}/api/trpc/billing.status`, cookie);
    await bystander.sample(30); // warm-up
    return await runStorm({
      stripe,
      sandbox,
      webhookSecret: WEBHOOK_SECRET,
      postWebhook: post,
      bystander,
      customers: subscribers,
      mismatches: (customers) => findMismatches(database.db, customers),
      log,
    });
  } finally {
    await bystander?.close();
    agent.destroy();
    await stack.stop();
    await database.close();
  }
}

async function completeCheckout(sessionId: string) {
  const completed = await fetch(`${sandbox.url}/_sandbox/checkout/sessions/${sessionId}/complete`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ card: "4242424242424242", name: "Bench", "address[line1]": "1 Way", "address[city]": "London", "address[postal_code]": "N1", "address[country]": "GB" }),
  });
  await completed.arrayBuffer();
}

/** The client reference manifest of a page, wherever route groups put it under .next/server/app. */
function pageManifestFile(route: string): string {
  const root = ".next/server/app";
  const found = fs
    .readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith("page_client-reference-manifest.js"))
    .find((file) => `/${path.dirname(file)}`.replace(/\/\([^)]*\)/g, "") === route);
  if (!found) throw new Error(`no client reference manifest for ${route} in ${root}`);
  return path.join(root, found);
}

interface WebhookFigures {
  events: RunResult;
  ceiling: RunResult;
  ratio: number;
  stripeReadsPerEvent: number;
}

function markdown(results: Record<string, unknown>): string {
  const r = results as {
    date: string;
    services: Record<string, string>;
    machine: Record<string, unknown>;
    runs: number;
    webhooks: { byConcurrency: Record<string, WebhookFigures>; mismatches: number; handledEventMix: Record<string, number> };
    budget: { stores: Record<string, { c1: RunResult; c16: RunResult; ratioToPing: { p50: number; opsPerSecC16: number } | null; overspend: { overspendTokens: number; granted: number } }>; redisPing: { c1: RunResult; c16: RunResult } | string };
    chat: { store: string; withBudget: RunResult; noopStore: RunResult; overheadP50Ms: number; overheadP99Ms: number; overHttp: RunResult };
    pages: { routes: Record<string, { firstLoadJsGzipKb: number; prerendered: boolean }>; pricingTtfbP50Ms: number; trivialRouteTtfbP50Ms: number };
    devStartup: string | DevStartup;
    targets: Array<{ target: string; value: unknown; met: boolean | null }>;
    storm?: StormResults;
    parts: string[];
  };
  const n = (value: number, digits = 2) => (Number.isFinite(value) ? round(value, digits).toString() : "n/a");
  const mainLines = () => [
    "## 1. Webhooks (signed, re-read from the sandbox) vs the trivial route `GET /api/health`",
    "",
    `Event mix: ${Object.entries(r.webhooks.handledEventMix).map(([type, count]) => `${type} ${count}`).join(", ")}. Mismatches between database and sandbox afterwards: **${r.webhooks.mismatches}**.`,
    "",
    "Events are posted in the order Stripe emitted them (a customer's events come together, as a checkout's four or five do), and once interleaved so no two neighbours concern one customer. A read of a customer in flight serves every event that arrived before it began: Stripe reads per event shows how often.",
    "",
    "| concurrency (event order) | events/s | p50 ms | p95 ms | p99 ms | ceiling req/s | ceiling p50 ms | ratio | Stripe reads per event |",
    "|---|---|---|---|---|---|---|---|---|",
    ...Object.entries(r.webhooks.byConcurrency).map(([c, w]) => `| ${c.slice(1).replace(" interleaved", " (interleaved)")} | ${n(w.events.opsPerSec, 0)} | ${n(w.events.p50)} | ${n(w.events.p95)} | ${n(w.events.p99)} | ${n(w.ceiling.opsPerSec, 0)} | ${n(w.ceiling.p50)} | ${n(w.ratio)} | ${n(w.stripeReadsPerEvent)} |`),
    "",
    "## 2. Budget reserve + settle vs a bare Redis PING (ioredis, same process)",
    "",
    "| store | c=1 p50 ms | c=1 p99 ms | c=16 ops/s | p50 / PING p50 | ops/s / PING ops/s | overspend (tokens) |",
    "|---|---|---|---|---|---|---|",
    ...Object.entries(r.budget.stores).map(([name, b]) => `| ${name} | ${n(b.c1.p50, 3)} | ${n(b.c1.p99, 3)} | ${n(b.c16.opsPerSec, 0)} | ${b.ratioToPing ? n(b.ratioToPing.p50) : "n/a"} | ${b.ratioToPing ? n(b.ratioToPing.opsPerSecC16) : "n/a"} | ${b.overspend.overspendTokens} |`),
    typeof r.budget.redisPing === "string" ? `| Redis PING | ${r.budget.redisPing} | | | | | |` : `| Redis PING (reference) | ${n(r.budget.redisPing.c1.p50, 3)} | ${n(r.budget.redisPing.c1.p99, 3)} | ${n(r.budget.redisPing.c16.opsPerSec, 0)} | 1 | 1 | |`,
    "",
    `## 3. Chat request overhead (handleChatRequest, demo model at 0 delay, ${r.chat.store} store vs a no-op store)`,
    "",
    "| | p50 ms | p99 ms |",
    "|---|---|---|",
    `| with the budget | ${n(r.chat.withBudget.p50)} | ${n(r.chat.withBudget.p99)} |`,
    `| no-op store | ${n(r.chat.noopStore.p50)} | ${n(r.chat.noopStore.p99)} |`,
    `| overhead | ${n(r.chat.overheadP50Ms)} | ${n(r.chat.overheadP99Ms)} |`,
    "",
    `The whole route for comparison, \`POST /api/chat\` over HTTP on the production server (session cookie, entitlement from the database, the same store, the answer read to its end): p50 ${n(r.chat.overHttp.p50)} ms, p99 ${n(r.chat.overHttp.p99)} ms. The budget's share cannot be switched off there without a test-only branch in the route, hence the in-process pair above.`,
    "",
    "## 4. Pages (first-load JS: root main files + layout and page client entry chunks, gzipped)",
    "",
    "| route | first-load JS kB | prerendered |",
    "|---|---|---|",
    ...Object.entries(r.pages.routes).map(([route, p]) => `| ${route} | ${n(p.firstLoadJsGzipKb, 1)} | ${p.prerendered ? "yes" : "no"} |`),
    "",
    `TTFB p50: /pricing ${n(r.pages.pricingTtfbP50Ms)} ms vs the trivial route ${n(r.pages.trivialRouteTtfbP50Ms)} ms (ratio ${n(r.pages.pricingTtfbP50Ms / r.pages.trivialRouteTtfbP50Ms)}).`,
    "",
    "## 5. Start-up",
    "",
    typeof r.devStartup === "string"
      ? r.devStartup
      : `\`npm run dev\` to the first 200 on /: cold .next/dev ${n(r.devStartup.coldMs, 0)} ms, warm ${n(r.devStartup.warmMs, 0)} ms (cold / warm ${n(r.devStartup.ratio)}).`,
    "",
  ];
  const lines = [
    `# Hourglass bench, ${r.date.slice(0, 10)}`,
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}. Database: ${r.services.database}. Budget store: ${r.services.budgetStore}. Stripe: ${r.services.stripe}. Parts run: ${r.parts.join(", ")}. ${r.parts.includes("main") ? `Each main figure is the median of ${r.runs} runs; every` : "Every"} reference is measured in the same run.`,
    "",
    "## Targets",
    "",
    "| target | value | met |",
    "|---|---|---|",
    ...r.targets.map((t) => `| ${t.target} | ${typeof t.value === "number" ? n(t.value) : String(t.value)} | ${t.met === null ? "not measured" : t.met ? "yes" : "**no**"} |`),
    "",
    ...(r.storm ? stormMarkdown(r.storm) : []),
    ...(r.webhooks ? mainLines() : []),
  ];
  return lines.join("\n");
}

let exitCode = 0;
try {
  const results = await run();
  const stamp = new Date().toISOString().slice(0, 10);
  fs.mkdirSync("bench/results", { recursive: true });
  fs.writeFileSync(`bench/results/${stamp}.json`, `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results);
  fs.writeFileSync(`bench/results/${stamp}.md`, md);
  console.log(`\n${md}`);
  console.log(`written bench/results/${stamp}.json and .md`);
} catch (error) {
  console.error("bench failed:", error);
  exitCode = 1;
} finally {
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      console.error("cleanup failed:", error);
    }
  }
}
process.exit(exitCode);

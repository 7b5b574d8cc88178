// `npm run bench`: measures Hourglass against its production build (`npm run build` first) and writes
// bench/results/<date>.json + .md. Real Postgres / Redis from DATABASE_URL / REDIS_URL, embedded otherwise (said so
// in the report). Every figure is the median of several runs and is paired with a reference measured in the same
// run (the trivial route GET /api/health, a bare Redis round trip, a no-op budget store), so ratios survive a noisy
// machine. Each measurement lives in its own module; this file runs them in order and states the targets.
// Flags: --only=storm|main (default both), --runs=N (default 3), --skip-dev (leave out timing `npm run dev` from a cold .next/dev to the first 200
// on /; that step deletes .next/dev, and refuses to while a `next dev` of this checkout holds its lock).
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { count } from "drizzle-orm";
import { measureBudget, openBudgetStores } from "./budget";
import { CHAT_BODY, measureChatOverHttp, measureChatOverhead } from "./chat";
import { BENCH_USER_PASSWORD, log, openBenchContext, WEBHOOK_SECRET, type BenchContext } from "./context";
import { createCustomerHistories } from "./customers";
import { measureDevStartup } from "./dev-startup";
import { httpRequest, signIn } from "./http";
import { measureFirstLoadJs, measureTtfb } from "./pages";
import { markdown, type Target } from "./report";
import { stormTargets } from "./storm";
import { measureStorm } from "./storm-stack";
import { measureWebhooks } from "./webhooks";

const args = process.argv.slice(2);
const RUNS = Number(args.find((a) => a.startsWith("--runs="))?.split("=")[1] ?? 3);
const SKIP_DEV = args.includes("--skip-dev");
// --only=storm runs the renewal storm alone (it takes a machine to itself best); --only=main everything else.
const ONLY = args.find((a) => a.startsWith("--only="))?.split("=")[1]?.split(",") ?? ["main", "storm"];
const CUSTOMERS = 60;
const EVENTS_PER_RUN = 240;

async function run(ctx: BenchContext) {
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
    services: {
      database: ctx.realPostgres ? "Postgres (DATABASE_URL)" : "embedded PGlite (DATABASE_URL not set)",
      budgetStore: ctx.realRedis ? "Upstash store -> bridge -> Redis (REDIS_URL)" : "in-process store (REDIS_URL not set)",
      stripe: "local Stripe sandbox",
    },
    runs: RUNS,
  };
  const targets: Target[] = [];
  if (ONLY.includes("main")) targets.push(...(await measureMain(ctx, results)));
  if (ONLY.includes("storm")) {
    const storm = await measureStorm(ctx);
    results.storm = storm;
    targets.push(...stormTargets(storm));
  }
  results.parts = ONLY;
  results.targets = targets;
  return results;
}

async function measureMain(ctx: BenchContext, results: Record<string, unknown>): Promise<Target[]> {
  const { customers, events, mix } = await createCustomerHistories(ctx, CUSTOMERS);

  // ---- The production server: webhooks, page TTFB and the chat route over HTTP. --------------------------------------
  log("starting the production server (next start)");
  // The app must read the sandbox the customers were made in. The stack reads the environment when it is imported,
  // before openBenchContext set it, and would start a sandbox of its own: name the bench's explicitly.
  const stripeEnv = { STRIPE_API_BASE: ctx.sandbox.url, STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY ?? "", STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET };
  // Imported only now: the stack reads lib/env on import, which must see the bench's database (openBenchContext).
  const { startAppStack } = await import("../scripts/app-stack");
  const stack = await startAppStack({ appEnv: { DEMO_MODEL_DELAY_MS: "0", ...stripeEnv, ...(ctx.dataDir ? { DATA_DIR: ctx.dataDir } : {}) } });
  let stackStopped = false;
  ctx.cleanups.unshift(async () => {
    if (!stackStopped) await stack.stop();
  });
  const base = stack.baseUrl;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const request = (method: "GET" | "POST", url: string, body?: string, headers: Record<string, string> = {}) =>
    httpRequest(agent, method, url, body, headers);
  // Warm the trivial route (first requests compile nothing in production, but open the database and clients).
  for (let i = 0; i < 20; i++) await request("GET", `${base}/api/health`);

  const webhooks = await measureWebhooks(ctx, { events, request, base, runs: RUNS, eventsPerRun: EVENTS_PER_RUN });
  const [pricingTtfb = NaN, trivialTtfb = NaN] = await measureTtfb((url) => request("GET", url), [`${base}/pricing`, `${base}/api/health`], RUNS);
  const chatCustomer = customers[0];
  if (!chatCustomer) throw new Error("no customers");
  const sessionCookie = await signIn(base, chatCustomer.email, BENCH_USER_PASSWORD);
  // Origin as the browser sends it: the app refuses cross-origin writes.
  const chatHttp = await measureChatOverHttp(
    async () => (await request("POST", `${base}/api/chat`, CHAT_BODY, { cookie: sessionCookie, origin: new URL(base).origin })).status,
    RUNS,
  );
  agent.destroy();
  await stack.stop();
  stackStopped = true;

  // ---- Mismatches between the database and the sandbox, per customer. ------------------------------------------------
  const check = await ctx.openAppDatabase();
  const mismatches = await ctx.findMismatches(check.db, customers);
  // Every posted event must have been new and processed: a duplicate would be a no-op and flatter the figures.
  const [recorded] = await check.db.select({ value: count() }).from(ctx.app.stripeEvents);
  if (recorded?.value !== webhooks.posted()) throw new Error(`posted ${webhooks.posted()} distinct events but ${recorded?.value} were recorded`);
  await check.close();
  log(`mismatches after the webhook runs: ${mismatches.length}; events recorded ${recorded.value} of ${webhooks.posted()} posted`);
  results.webhooks = { eventsPerRun: EVENTS_PER_RUN, handledEventMix: mix, customers: CUSTOMERS, byConcurrency: webhooks.figures, mismatches: mismatches.length, mismatchDetails: mismatches.slice(0, 10) };

  // ---- The budget stores, then the chat handler's overhead with the real one. -----------------------------------------
  const periodEnd = new Date(Date.now() + 86_400_000);
  const benchUsers: string[] = [];
  const newUser = (prefix: string) => {
    const userId = `${prefix}-${crypto.randomUUID()}`;
    benchUsers.push(userId);
    return userId;
  };
  const stores = await openBudgetStores(ctx, () => [...benchUsers, ...customers.map((c) => c.userId)]);
  const budget = await measureBudget(stores, { runs: RUNS, periodEnd, newUser });
  results.budget = budget;
  // A customer's user: its chat history goes to the users table's chats.
  const historyUser = customers[1] ?? chatCustomer;
  const overhead = await measureChatOverhead(ctx, {
    store: stores.upstash ?? stores.memory,
    userId: newUser("bench-chat"),
    historyUserId: historyUser.userId,
    periodEnd,
    runs: RUNS,
  });
  results.chat = { store: stores.upstash ? "upstash via bridge" : "in-process", ...overhead, overHttp: chatHttp };

  // ---- Pages from the build output, and `next dev` start-up (opt-out). ------------------------------------------------
  const pages = measureFirstLoadJs(["/pricing", "/account", "/chat"]);
  results.pages = { routes: pages, pricingTtfbP50Ms: pricingTtfb, trivialRouteTtfbP50Ms: trivialTtfb };
  results.devStartup = SKIP_DEV ? "not measured (--skip-dev)" : await measureDevStartup(RUNS, log);

  // ---- Targets. -----------------------------------------------------------------------------------------------------------
  const c16 = webhooks.figures.c16;
  const spread = webhooks.figures["c16 interleaved"];
  const bridgeRatio = budget.stores["upstash via bridge"]?.ratioToPing?.p50 ?? null;
  const chatShare = overhead.overheadP50Ms / overhead.noopStore.p50;
  const pricing = pages["/pricing"];
  const overspends = Object.values(budget.stores).map((b) => b.overspend.overspendTokens);
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
    {
      target: "chat: weights, a credit pack and saved history add < 5 ms to the p50 (vs the no-op store)",
      value: overhead.meteredOverheadP50Ms,
      met: overhead.meteredOverheadP50Ms < 5,
    },
    // /pricing renders per request (the plan actions depend on the session), so it is held to a time, not to prerendering.
    { target: "/pricing TTFB p50 <= 10x the trivial route's", value: pricingTtfb / trivialTtfb, met: pricingTtfb / trivialTtfb <= 10 },
    { target: "/pricing first-load JS < 150 kB (gzipped)", value: pricing?.firstLoadJsGzipKb, met: (pricing?.firstLoadJsGzipKb ?? Infinity) < 150 },
  ];
}

const ctx = await openBenchContext();
let exitCode = 0;
try {
  const results = await run(ctx);
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
  for (const cleanup of ctx.cleanups) {
    try {
      await cleanup();
    } catch (error) {
      console.error("cleanup failed:", error);
    }
  }
}
process.exit(exitCode);

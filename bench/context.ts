// What every bench measurement shares: a fresh database (a migrated Postgres database from DATABASE_URL, or a PGlite
// directory the app opens after us), the bench's own Stripe sandbox (the app reaches it as "Stripe"; events are
// posted by the bench itself), and the app's modules, imported only after the environment points at both. Cleanups
// run in order when the bench ends, whether it succeeded or not.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import Stripe from "stripe";

export const WEBHOOK_SECRET = "whsec_hourglass_bench";
/** The password of the users the bench signs in over HTTP. */
export const BENCH_USER_PASSWORD = "bench-chat-password";

export const log = (message: string) => console.log(`[bench] ${message}`);

export async function openBenchContext() {
  const realPostgres = process.env.DATABASE_URL ?? null;
  const realRedis = process.env.REDIS_URL ?? null;
  const cleanups: Array<() => Promise<void> | void> = [];

  let dataDir: string | null = null;
  if (realPostgres) {
    const name = `hourglass_bench_${Date.now()}`;
    const adminSql = postgres(realPostgres, { max: 1, onnotice: () => {} });
    await adminSql.unsafe(`CREATE DATABASE "${name}"`);
    const url = new URL(realPostgres);
    url.pathname = `/${name}`;
    process.env.DATABASE_URL = url.toString();
    cleanups.push(async () => {
      await adminSql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await adminSql.end();
    });
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bench-"));
    dataDir = dir;
    process.env.DATA_DIR = dir;
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  }

  const { startStripeSandbox } = await import("../sandbox/stripe");
  const sandbox = await startStripeSandbox({ port: 0, autoTestClock: true });
  cleanups.push(() => sandbox.close());
  process.env.STRIPE_SECRET_KEY = "sk_test_hourglass_bench";
  process.env.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET;
  process.env.STRIPE_API_BASE = sandbox.url;
  const stripe = new Stripe("sk_test_hourglass_bench", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });

  // App modules read the environment at import: only now.
  const [dbClient, userQueries, password, billingQueries, schema, envModule, setup, plans, sync, handlers, usage, chatRequest, errors, demoModel, appDb, chatQueries] =
    await Promise.all([
      import("../db/client"),
      import("../db/queries/users"),
      import("../server/auth/password"),
      import("../db/queries/billing"),
      import("../db/schema"),
      import("../lib/env"),
      import("../server/billing/setup-stripe"),
      import("../server/billing/plans"),
      import("../server/billing/sync-subscription"),
      import("../server/billing/webhooks/handlers"),
      import("../server/usage"),
      import("../server/chat/chat-request"),
      import("../server/errors"),
      import("../server/chat/demo-model"),
      import("../db/index"),
      import("../db/queries/chats"),
    ]);
  const app = {
    insertUser: userQueries.insertUser,
    findUserById: userQueries.findUserById,
    hashPassword: password.hashPassword,
    linkStripeCustomer: billingQueries.linkStripeCustomer,
    stripeEvents: schema.stripeEvents,
    env: envModule.env,
    setupStripe: setup.setupStripe,
    plans: plans.plans,
    subscriptionState: sync.subscriptionState,
    pickCurrentSubscription: sync.pickCurrentSubscription,
    isHandledEvent: handlers.isHandledEvent,
    createMemoryBudgetStore: usage.createMemoryBudgetStore,
    createUpstashBudgetStore: usage.createUpstashBudgetStore,
    /** What POST /api/chat does: start the chat, and map a thrown AppError to its response. */
    handleChatRequest: (...args: Parameters<typeof chatRequest.startChat>) =>
      chatRequest.startChat(...args).catch((error: unknown) => errors.errorResponse(error)),
    createDemoModel: demoModel.createDemoModel,
    /** The messages of one of the user's chats, from the database the handler above writes to. */
    countChatMessages: async (userId: string, chatId: string) => (await chatQueries.findChat(await appDb.getDb(), userId, chatId))?.messages.length ?? 0,
  };

  const openAppDatabase = () =>
    realPostgres
      ? dbClient.openDatabase({ kind: "postgres", url: process.env.DATABASE_URL ?? "", migrate: true, maxConnections: 4 })
      : dbClient.openDatabase({ kind: "pglite", dataDir: path.join(dataDir ?? "", "pglite"), migrate: true });

  /** Pays a sandbox Checkout Session as its hosted page would, with the card that succeeds. */
  const completeCheckout = async (sessionId: string) => {
    const completed = await fetch(`${sandbox.url}/_sandbox/checkout/sessions/${sessionId}/complete`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ card: "4242424242424242", name: "Bench", "address[line1]": "1 Way", "address[city]": "London", "address[postal_code]": "N1", "address[country]": "GB" }),
    });
    await completed.arrayBuffer();
  };

  type AppDb = Awaited<ReturnType<typeof openAppDatabase>>["db"];
  /** Differences between the database and the sandbox's current subscription, per customer. */
  const findMismatches = async (db: AppDb, customers: Array<{ userId: string; customerId: string }>) => {
    const mismatches: string[] = [];
    for (const { userId, customerId } of customers) {
      const truth = app.pickCurrentSubscription((await stripe.subscriptions.list({ customer: customerId, status: "all", limit: 100 })).data);
      const row = await app.findUserById(db, userId);
      if (!truth || !row) {
        mismatches.push(`${customerId}: missing`);
        continue;
      }
      const expected = app.subscriptionState(truth, app.env.BILLING_GRACE_SECONDS);
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
  };

  return { realPostgres, realRedis, dataDir, cleanups, sandbox, stripe, app, openAppDatabase, completeCheckout, findMismatches };
}

export type BenchContext = Awaited<ReturnType<typeof openBenchContext>>;

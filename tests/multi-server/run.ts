// The two-server test (`npm run test:multi-server`, after `npm run build`): two production servers (`next start`) of
// the build in .next, configured as APP_INSTANCES=2, on one Postgres (DATABASE_URL) and one Redis (REDIS_URL, through
// the Upstash bridge), behind a round-robin proxy, with the Stripe sandbox and the local inbox. It proves that nothing
// the app keeps per process breaks when requests land on either server:
//   - a server configured as one of two refuses to start without the shared budget store;
//   - a session made on one server works on the other, both ways;
//   - every webhook of many customers' lifecycles, delivered three times in shuffled order at once over both servers,
//     leaves 0 mismatches between the users rows and the sandbox's subscriptions, each event recorded once;
//   - 100 parallel chats of one user over both servers never overspend a small budget: some are refused with 429,
//     the charges add up to at most the budget, and Redis's `chatbot-usage:<userId>` holds exactly the budget less them;
//   - both servers' email deliverers drain one outbox, sending each email once;
//   - an account deleted through one server is refused at once by the other.
// Prints a line per test and "N passed, N failed"; E2E_REPORT names the JSON report ({ passed, failed, tests }).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { inArray } from "drizzle-orm";
import Redis from "ioredis";
import Stripe from "stripe";
import { signIn } from "../../bench/http";
import { CHAT_BODY } from "../../bench/chat";
import { openDatabase } from "../../db/client";
import { linkStripeCustomer } from "../../db/queries/billing";
import { findUserById, insertUser } from "../../db/queries/users";
import { emailOutbox, stripeEvents } from "../../db/schema";
import { env, SANDBOX_WEBHOOK_SECRET, secretList } from "../../lib/env";
import { appServerEnv, freePort, migrateDatabase, startProductionServer, type ServerProcess } from "../../scripts/app-stack";
import { startLocalServices, type LocalServices } from "../../scripts/local-services";
import { hashPassword } from "../../server/auth/password";
import { plans } from "../../server/billing/plans";
import { isHandledEvent } from "../../server/billing/webhooks/handlers";
import { pickCurrentSubscription, subscriptionState } from "../../server/billing/sync-subscription";
import { listInbox } from "../support/mail-inbox";
import { runTests, reportOutcomes, type SuiteTest } from "../support/suite-runner";
import { PIN_HEADER, SERVED_BY_HEADER, startRoundRobinProxy, type RoundRobinProxy } from "./round-robin-proxy";

const SERVERS = 2;
/**
 * Starter's tokens per period. Each answer reserves ~1,040 tokens (prompt + 1,024) and is charged ~80, so even 100
 * chats arriving one after another could not all be answered: some must be refused, however the machine schedules them.
 */
const BUDGET = 4_000;
const CUSTOMERS = 16;
const COPIES = 3;
const WEBHOOK_CONCURRENCY = 16;
const CHATS = 100;
const PASSWORD = "correct horse battery";
const SERVER_START_MS = 180_000;

const startedAt = Date.now();
const runId = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;

if (!env.DATABASE_URL || !env.REDIS_URL || env.UPSTASH_REDIS_REST_URL || env.STRIPE_SECRET_KEY) {
  console.error(
    "The two-server test needs DATABASE_URL (Postgres) and REDIS_URL (Redis, put behind the local Upstash bridge), and runs on the " +
      "Stripe sandbox: unset UPSTASH_REDIS_REST_URL and STRIPE_SECRET_KEY. Example:\n" +
      "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/hourglass REDIS_URL=redis://127.0.0.1:6379 npm run test:multi-server",
  );
  process.exit(1);
}
if (!fs.existsSync(path.join(".next", "BUILD_ID"))) {
  console.error("No production build in .next: run `npm run build` first.");
  process.exit(1);
}
const databaseUrl = env.DATABASE_URL;

// ---- The stack: ports first (the proxy names both servers, the sandbox delivers to the proxy), then everything. ----
const ports = await Promise.all(Array.from({ length: SERVERS }, () => freePort()));
const proxy: RoundRobinProxy = await startRoundRobinProxy(ports.map((port) => `http://127.0.0.1:${port}`));
const origin = proxy.url;
const services: LocalServices = await startLocalServices({
  appUrl: proxy.url,
  stripeSandboxPort: 0,
  bridgePort: await freePort(),
  stateFile: null,
  retryBaseMs: 100,
  mailPorts: { smtp: 0, http: 0 },
});
const sandboxUrl = services.stripeSandboxUrl ?? "";
const sandbox = new URL(sandboxUrl);
const stripe = new Stripe("sk_test_multi_server", { host: sandbox.hostname, port: Number(sandbox.port), protocol: "http", maxNetworkRetries: 0 });
const webhookSecret = secretList(env.STRIPE_WEBHOOK_SECRET ?? SANDBOX_WEBHOOK_SECRET)[0] ?? SANDBOX_WEBHOOK_SECRET;
const redis = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
const dataDirs = ports.map(() => fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-multi-")));
// One environment for both servers (one AUTH_SECRET, as a deployment shares it), each with its own DATA_DIR.
const sharedEnv = appServerEnv(services.env, {
  APP_URL: proxy.url,
  APP_INSTANCES: String(SERVERS),
  CHAT_TOKEN_BUDGET: String(BUDGET),
  DEMO_MODEL_DELAY_MS: "2",
  // Hundreds of webhook and chat lines would bury what a failure prints (each server's last lines).
  LOG_LEVEL: "warn",
});
const servers: ServerProcess[] = [];
let database: Awaited<ReturnType<typeof openDatabase>> | undefined;

const db = () => {
  if (!database) throw new Error("the database is not open");
  return database.db;
};
const pinned = (index: number) => ({ [PIN_HEADER]: String(index) });

async function stopEverything() {
  await Promise.allSettled(servers.map((server) => server.stop()));
  await proxy.close().catch(() => undefined);
  await services.close().catch(() => undefined);
  await database?.close().catch(() => undefined);
  redis.disconnect();
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
}

// ---- Helpers over HTTP and the sandbox. -------------------------------------------------------------------------------

async function createUser(label: string, passwordHash = "x") {
  const email = `multi-${label}-${runId}@example.com`;
  const user = await insertUser(db(), { email, name: label, passwordHash, emailVerified: new Date() });
  return { id: user.id, email };
}

/** The signed-in user's email as a server sees the cookie, or null. */
async function sessionEmail(cookie: string, server: number): Promise<string | null> {
  const response = await fetch(`${origin}/api/auth/session`, { headers: { cookie, ...pinned(server) } });
  assert.equal(response.headers.get(SERVED_BY_HEADER), String(server), "the pinned server answered");
  const session = (await response.json()) as { user?: { email?: string } } | null;
  return session?.user?.email ?? null;
}

async function priceId(lookupKey: string | null): Promise<string> {
  const price = (await stripe.prices.list({ lookup_keys: [lookupKey ?? ""], limit: 1 })).data[0];
  if (!price) throw new Error(`no sandbox price ${lookupKey}`);
  return price.id;
}

/** Pays a Checkout Session as its hosted page would, with the card that succeeds. */
async function completeCheckout(sessionId: string) {
  const response = await fetch(`${sandboxUrl}/_sandbox/checkout/sessions/${sessionId}/complete`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ card: "4242424242424242", name: "Multi", "address[line1]": "1 Way", "address[city]": "London", "address[postal_code]": "N1", "address[country]": "GB" }),
  });
  assert.equal(response.status, 200, `completing checkout ${sessionId}: ${await response.text()}`);
}

async function setSandboxFaults(faults: Record<string, string>) {
  const response = await fetch(`${sandboxUrl}/_sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(faults),
  });
  assert.equal(response.status, 200, "the sandbox's fault switch");
}

/** Runs `work` over `items` with at most `limit` at once. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** The users row of each customer against its current subscription in the sandbox, field by field. */
async function mismatches(customers: Array<{ userId: string; customerId: string }>): Promise<string[]> {
  const found: string[] = [];
  for (const { userId, customerId } of customers) {
    const truth = pickCurrentSubscription((await stripe.subscriptions.list({ customer: customerId, status: "all", limit: 100 })).data);
    const row = await findUserById(db(), userId);
    if (!truth || !row) {
      found.push(`${customerId}: ${truth ? "no users row" : "no subscription"}`);
      continue;
    }
    const expected = subscriptionState(truth, env.BILLING_GRACE_SECONDS);
    const differing = (Object.keys(expected) as Array<keyof typeof expected>).filter((field) => {
      const a = expected[field];
      const b = row[field];
      return a instanceof Date || b instanceof Date ? (a as Date | null)?.getTime() !== (b as Date | null)?.getTime() : a !== b;
    });
    if (differing.length > 0) found.push(`${customerId}: ${differing.map((field) => `${field} ${JSON.stringify(row[field])} != ${JSON.stringify(expected[field])}`).join(", ")}`);
  }
  return found;
}

/** Tokens charged for one streamed answer: the finish part's metadata (sent after the budget is settled). */
function chargedIn(stream: string): number | null {
  for (const line of stream.split("\n")) {
    if (!line.startsWith("data: ")) continue;
    const data = line.slice("data: ".length).trim();
    if (data === "[DONE]") continue;
    const part = JSON.parse(data) as { type?: string; messageMetadata?: { tokensUsed?: number } };
    if (part.type === "finish" && typeof part.messageMetadata?.tokensUsed === "number") return part.messageMetadata.tokensUsed;
  }
  return null;
}

// ---- The tests. -------------------------------------------------------------------------------------------------------

/** The user of the chat and deletion tests: a Starter subscriber made in the webhook test. */
let chatUser: { id: string; email: string } | undefined;
/** Every user of the webhook test (their billing emails go through the outbox). */
const hookUsers: Array<{ id: string; email: string }> = [];

const STARTED = "two production servers start on one Postgres and one Redis, behind the proxy";
const WEBHOOKS = `webhooks of ${CUSTOMERS} customers, each delivered x${COPIES} in shuffled order over both servers at once: 0 mismatches`;
const CHAT = `${CHATS} parallel chats of one user over both servers never overspend a budget of ${BUDGET} tokens`;

const tests: SuiteTest[] = [
  {
    name: "a server configured as one of two (APP_INSTANCES=2) refuses to start without the shared budget store",
    timeoutMs: SERVER_START_MS,
    async run() {
      const withoutRedis: NodeJS.ProcessEnv = { ...sharedEnv, DATA_DIR: dataDirs[0] };
      delete withoutRedis.UPSTASH_REDIS_REST_URL;
      delete withoutRedis.UPSTASH_REDIS_REST_TOKEN;
      const outcome = await startProductionServer({ port: await freePort(), serverEnv: withoutRedis, timeoutMs: SERVER_START_MS - 10_000 }).then(
        async (server) => {
          await server.stop();
          return null;
        },
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      assert.ok(outcome !== null, "the server started and answered, with the in-process budget store and APP_INSTANCES=2");
      assert.match(outcome, /exited before answering/);
      assert.match(outcome, /APP_INSTANCES=2: 2 servers cannot share state kept in one process: the in-process token budget store/);
    },
  },
  {
    name: STARTED,
    timeoutMs: SERVER_START_MS + 60_000,
    async run() {
      await migrateDatabase(databaseUrl);
      database = await openDatabase({ kind: "postgres", url: databaseUrl, maxConnections: 4 });
      await redis.connect();
      servers.push(
        ...(await Promise.all(
          ports.map((port, index) => startProductionServer({ port, serverEnv: { ...sharedEnv, DATA_DIR: dataDirs[index] }, timeoutMs: SERVER_START_MS })),
        )),
      );
      for (let index = 0; index < SERVERS; index++) {
        const ready = await fetch(`${origin}/api/ready`, { headers: pinned(index), signal: AbortSignal.timeout(60_000) });
        assert.equal(ready.status, 200, `server ${index} /api/ready: ${await ready.text()}`);
        assert.equal(ready.headers.get(SERVED_BY_HEADER), String(index));
      }
      proxy.resetCounts();
      for (let i = 0; i < 4; i++) await (await fetch(`${origin}/api/health`)).arrayBuffer();
      assert.deepEqual(proxy.served(), [2, 2], "the proxy takes turns");
    },
  },
  {
    name: "a session made on one server works on the other, both ways",
    needs: [STARTED],
    async run() {
      const user = await createUser("session", await hashPassword(PASSWORD));
      for (const [made, used] of [
        [0, 1],
        [1, 0],
      ] as const) {
        const cookie = await signIn(origin, user.email, PASSWORD, pinned(made));
        assert.equal(await sessionEmail(cookie, used), user.email, `a session made on server ${made}, read on server ${used}`);
        const account = await fetch(`${origin}/account`, { headers: { cookie, ...pinned(used) }, redirect: "manual" });
        assert.equal(account.status, 200, `/account on server ${used} with server ${made}'s session`);
        assert.ok((await account.text()).includes(user.email), `/account on server ${used} shows the user`);
      }
    },
  },
  {
    name: WEBHOOKS,
    needs: [STARTED],
    timeoutMs: 240_000,
    async run() {
      // Deliveries stay with the test: the sandbox holds its own, the test posts every event itself.
      await setSandboxFaults({ pauseDeliveries: "true" });
      const newest = (await stripe.events.list({ limit: 1 })).data[0]?.id;
      const prices = { starter: await priceId(plans.starter.lookupKey), pro: await priceId(plans.pro.lookupKey) };
      const customers: Array<{ userId: string; customerId: string }> = [];
      await inParallel(
        Array.from({ length: CUSTOMERS }, (_, index) => index),
        4,
        async (index) => {
          const user = await createUser(`hook${index}`, index === 0 ? await hashPassword(PASSWORD) : "x");
          const customer = await stripe.customers.create({ email: user.email, metadata: { userId: user.id } });
          await linkStripeCustomer(db(), user.id, customer.id);
          let plan: "starter" | "pro" = index % 2 === 0 ? "starter" : "pro";
          const session = await stripe.checkout.sessions.create({
            mode: "subscription",
            customer: customer.id,
            line_items: [{ price: prices[plan], quantity: 1 }],
            success_url: `${origin}/account?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
            client_reference_id: user.id,
            subscription_data: { metadata: { userId: user.id } },
          });
          await completeCheckout(session.id);
          customers.push({ userId: user.id, customerId: customer.id });
          hookUsers.push(user);
          if (index === 0) {
            chatUser = user; // stays on Starter, active
            return;
          }
          const sub = (await stripe.subscriptions.list({ customer: customer.id, limit: 1 })).data[0];
          if (!sub) throw new Error(`no subscription for ${customer.id}`);
          if (index % 3 === 1) {
            plan = plan === "starter" ? "pro" : "starter";
            await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]?.id, price: prices[plan] }], proration_behavior: "create_prorations" });
          }
          if (index % 4 === 2) await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
          if (index % 4 === 3) await stripe.subscriptions.cancel(sub.id);
        },
      );
      const events: Stripe.Event[] = [];
      for await (const event of stripe.events.list({ limit: 100 })) {
        if (event.id === newest) break;
        events.push(event);
      }
      assert.ok(events.length >= CUSTOMERS * 4, `the lifecycles emitted ${events.length} events`);

      const deliveries = shuffled(events.flatMap((event) => Array.from({ length: COPIES }, () => JSON.stringify(event))));
      const post = async (payload: string) => {
        const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
        const response = await fetch(`${origin}/api/webhooks/stripe`, {
          method: "POST",
          headers: { "content-type": "application/json", "stripe-signature": signature },
          body: payload,
        }).catch(() => null);
        await response?.arrayBuffer();
        return response?.status ?? 0;
      };
      proxy.resetCounts();
      let pending: string[] = [];
      await inParallel(deliveries, WEBHOOK_CONCURRENCY, async (payload) => {
        if ((await post(payload)) !== 200) pending.push(payload);
      });
      const failedFirst = pending.length;
      // What Stripe does with a failed delivery: send it again later, until it is answered 200.
      let rounds = 0;
      while (pending.length > 0 && rounds < 20) {
        rounds += 1;
        await new Promise((resolve) => setTimeout(resolve, 500));
        const retry = pending;
        pending = [];
        for (const payload of retry) if ((await post(payload)) !== 200) pending.push(payload);
      }
      const served = proxy.served("/api/webhooks/stripe");
      console.log(
        `    ${events.length} events x${COPIES} = ${deliveries.length} deliveries; served per server ${served.join(" / ")}; ` +
          `${failedFirst} answered other than 200 first (re-sent in ${rounds} rounds)`,
      );
      assert.equal(pending.length, 0, `${pending.length} deliveries still failing after ${rounds} rounds`);
      assert.ok(served.every((count) => count > 0), `both servers took webhooks: ${served.join(" / ")}`);

      // Every event the app handles is recorded once (by id), whichever server processed which copy.
      const handled = events.filter((event) => isHandledEvent(event)).map((event) => event.id);
      const recorded = await db().select({ id: stripeEvents.id }).from(stripeEvents).where(inArray(stripeEvents.id, handled));
      assert.ok(handled.length >= CUSTOMERS * 3, `${handled.length} handled events`);
      assert.equal(recorded.length, handled.length, "each handled event recorded once in stripe_events");
      assert.deepEqual(await mismatches(customers), [], "users rows against the sandbox's subscriptions");
      const chatRow = chatUser ? await findUserById(db(), chatUser.id) : null;
      assert.equal(chatRow?.planActive, true, "the chat test's user is an active subscriber");
    },
  },
  {
    name: CHAT,
    needs: [STARTED, WEBHOOKS],
    timeoutMs: 180_000,
    async run() {
      const user = chatUser;
      if (!user) throw new Error("no subscriber from the webhook test");
      const key = `chatbot-usage:${user.id}`;
      assert.equal(await redis.get(key), String(BUDGET), `${key} after the purchase`);
      const cookie = await signIn(origin, user.email, PASSWORD);
      proxy.resetCounts();
      const outcomes = await Promise.all(
        Array.from({ length: CHATS }, async () => {
          const response = await fetch(`${origin}/api/chat`, {
            method: "POST",
            headers: { cookie, origin, "content-type": "application/json" },
            body: CHAT_BODY,
          });
          const body = await response.text();
          return { status: response.status, server: response.headers.get(SERVED_BY_HEADER), charged: response.status === 200 ? chargedIn(body) : null, body };
        }),
      );
      const answered = outcomes.filter((outcome) => outcome.status === 200);
      const refused = outcomes.filter((outcome) => outcome.status === 429);
      const other = outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 429);
      const charged = answered.reduce((sum, outcome) => sum + (outcome.charged ?? 0), 0);
      const left = await redis.get(key);
      const served = proxy.served("/api/chat");
      const answeredBy = [0, 1].map((server) => answered.filter((outcome) => outcome.server === String(server)).length);
      console.log(
        `    ${answered.length} answered (server 0: ${answeredBy[0]}, server 1: ${answeredBy[1]}), ${refused.length} refused with 429, ` +
          `${other.length} other; served per server ${served.join(" / ")}; charged ${charged} of ${BUDGET}; ${key} = ${left}`,
      );
      assert.deepEqual(other.map((outcome) => `${outcome.status} ${outcome.body.slice(0, 200)}`), [], "every chat answered 200 or 429");
      assert.ok(served.every((count) => count > 0), `both servers took chats: ${served.join(" / ")}`);
      assert.ok(answered.length > 0, "some chats were answered");
      assert.ok(refused.length > 0, "a small budget refuses some of 100 parallel chats");
      assert.deepEqual(answered.filter((outcome) => outcome.charged === null).length, 0, "every answer says what it charged");
      assert.ok(charged <= BUDGET, `charged ${charged} <= budget ${BUDGET}`);
      assert.equal(Number(left), BUDGET - charged, `${key} = budget - charged`);
    },
  },
  {
    // Each server runs an outbox deliverer (kicked by its own commits, polling every 5 s): both race for the same rows.
    name: "both servers' email deliverers drain one outbox: each billing email sent once",
    needs: [STARTED, WEBHOOKS],
    timeoutMs: 150_000,
    async run() {
      const inbox = services.mailInboxUrl;
      if (!inbox) throw new Error("no local inbox");
      const ids = hookUsers.map((user) => user.id);
      const deadline = Date.now() + 120_000;
      let rows: Array<{ toAddress: string; sentAt: Date | null; failedAt: Date | null; attempts: number }>;
      for (;;) {
        rows = await db()
          .select({ toAddress: emailOutbox.toAddress, sentAt: emailOutbox.sentAt, failedAt: emailOutbox.failedAt, attempts: emailOutbox.attempts })
          .from(emailOutbox)
          .where(inArray(emailOutbox.userId, ids));
        const unsent = rows.filter((row) => !row.sentAt && !row.failedAt).length;
        if (rows.length > 0 && unsent === 0) break;
        if (Date.now() > deadline) throw new Error(`${unsent} of ${rows.length} outbox emails still unsent after 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.deepEqual(rows.filter((row) => row.failedAt), [], "no email failed");
      let delivered = 0;
      for (const address of new Set(rows.map((row) => row.toAddress))) delivered += (await listInbox(inbox, address)).length;
      console.log(`    ${rows.length} outbox emails for ${ids.length} users, ${delivered} in the inbox`);
      assert.ok(rows.length >= ids.length, `at least one email per subscriber (${rows.length})`);
      assert.equal(delivered, rows.length, "messages in the inbox = outbox rows (none sent twice, none lost)");
      assert.equal(rows.filter((row) => row.attempts !== 1).length, 0, "each row taken by one deliverer, once");
    },
  },
  {
    name: "an account deleted through one server is refused at once by the other",
    needs: [STARTED, WEBHOOKS],
    async run() {
      const user = chatUser;
      if (!user) throw new Error("no subscriber from the webhook test");
      const cookie = await signIn(origin, user.email, PASSWORD, pinned(0));
      assert.equal(await sessionEmail(cookie, 1), user.email, "before: server 1 accepts the session");
      const customerId = (await findUserById(db(), user.id))?.stripeCustomerId ?? "";

      const deleted = await fetch(`${origin}/api/trpc/billing.deleteAccount`, {
        method: "POST",
        headers: { cookie, origin, "content-type": "application/json", ...pinned(0) },
        body: '{"json":null}',
      });
      assert.equal(deleted.status, 200, `deleting through server 0: ${await deleted.text()}`);

      assert.equal(await sessionEmail(cookie, 1), null, "server 1 has no session for the deleted user");
      const chat = await fetch(`${origin}/api/chat`, { method: "POST", headers: { cookie, origin, "content-type": "application/json", ...pinned(1) }, body: CHAT_BODY });
      assert.equal(chat.status, 401, "server 1 refuses the deleted user's chat");
      const me = await fetch(`${origin}/api/trpc/account.me`, { headers: { cookie, ...pinned(1) } });
      assert.equal(me.status, 401, "server 1 refuses account.me");
      const account = await fetch(`${origin}/account`, { headers: { cookie, ...pinned(1) }, redirect: "manual" });
      assert.ok([303, 307].includes(account.status), `/account on server 1 answered ${account.status}`);
      assert.match(account.headers.get("location") ?? "", /\/sign-in/);

      assert.equal(await findUserById(db(), user.id), null, "the users row is gone");
      assert.equal(await redis.exists(`chatbot-usage:${user.id}`), 0, "the budget key is gone from Redis");
      // Stripe answers a deleted customer's id with { deleted: true }; the sandbox with resource_missing.
      const customerGone = await stripe.customers.retrieve(customerId).then(
        (customer) => customer.deleted === true,
        (error: unknown) => (error as { code?: string }).code === "resource_missing",
      );
      assert.ok(customerGone, `the Stripe customer ${customerId} is deleted`);
    },
  },
];

let exitCode = 1;
try {
  console.log(`Two servers on ports ${ports.join(" and ")} behind ${proxy.url}; Stripe sandbox ${sandboxUrl}; Postgres and Redis (bridge) from the environment`);
  const outcomes = await runTests(tests, {
    onFailure: () => {
      servers.forEach((server, index) => console.error(`--- server ${index} output (last 3000 characters) ---\n${server.logs().slice(-3000)}`));
    },
  });
  exitCode = reportOutcomes(outcomes, startedAt);
} catch (error) {
  console.error("The suite could not run:", error);
} finally {
  await stopEverything();
}
process.exit(exitCode);

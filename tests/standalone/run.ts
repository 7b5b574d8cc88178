// The standalone server journey (`npm run test:standalone`, after `npm run build`): the self-hosting path without
// Docker. `node .next/standalone/server.js` (the Docker image's command) runs with `.next/static` and `public` copied
// beside it as the Dockerfile copies them, on Postgres (DATABASE_URL), Redis through the Upstash bridge (REDIS_URL),
// the Stripe sandbox and the local inbox; Chromium signs up, confirms the address from the inbox, pays on the
// sandbox's hosted Checkout and gets a chat answer, and the test checks Postgres and Redis behind each step.
// Prints a line per test and "N passed, N failed"; E2E_REPORT names the JSON report ({ passed, failed, tests }).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import Redis from "ioredis";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { openDatabase } from "../../db/client";
import { findUserByEmail } from "../../db/queries/users";
import { env } from "../../lib/env";
import { startAppStack, type AppStack } from "../../scripts/app-stack";
import { signUpFromPricing, subscribe } from "../e2e/flows";
import { ensureDir, expectEqual, expectText, expectTrue, expectVisible, parseTokens, type JourneyContext } from "../e2e/harness";
import { runTests, reportOutcomes, type SuiteTest } from "../support/suite-runner";

const BUDGET = 600;
const ARTIFACTS_DIR = path.join("tests", "standalone", "artifacts");
const startedAt = Date.now();

if (!env.DATABASE_URL || !env.REDIS_URL || env.UPSTASH_REDIS_REST_URL || env.STRIPE_SECRET_KEY) {
  console.error(
    "The standalone journey needs DATABASE_URL (Postgres) and REDIS_URL (Redis, put behind the local Upstash bridge), and runs on " +
      "the Stripe sandbox: unset UPSTASH_REDIS_REST_URL and STRIPE_SECRET_KEY. Example:\n" +
      "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/hourglass REDIS_URL=redis://127.0.0.1:6379 npm run test:standalone",
  );
  process.exit(1);
}
const databaseUrl = env.DATABASE_URL;

let stack: AppStack | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let database: Awaited<ReturnType<typeof openDatabase>> | undefined;
const redis = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
const steps: string[] = [];
let journey: JourneyContext | undefined;

const requireJourney = () => {
  if (!journey) throw new Error("the browser is not open");
  return journey;
};

async function userRow(email: string) {
  if (!database) throw new Error("the database is not open");
  const row = await findUserByEmail(database.db, email);
  if (!row) throw new Error(`no users row for ${email}`);
  return row;
}

const STARTED = "node .next/standalone/server.js starts on Postgres, Redis (bridge) and the sandbox: /api/ready 200";
const SIGNED_UP = "sign up, then confirm the email address from the local inbox";
const SUBSCRIBED = "checkout on the sandbox's hosted page: /account shows Starter, Postgres and Redis agree";

const tests: SuiteTest[] = [
  {
    name: STARTED,
    timeoutMs: 240_000,
    async run() {
      stack = await startAppStack({ server: "standalone", appEnv: { CHAT_TOKEN_BUDGET: String(BUDGET), DEMO_MODEL_DELAY_MS: "10" } });
      console.log(`    standalone server on ${stack.baseUrl}, Stripe sandbox on ${stack.stripeSandboxUrl}, inbox on ${stack.mailInboxUrl}`);
      const ready = await fetch(`${stack.baseUrl}/api/ready`, { signal: AbortSignal.timeout(60_000) });
      const body = (await ready.json()) as { status?: string; down?: string[] };
      assert.equal(ready.status, 200, `/api/ready: ${JSON.stringify(body)}`);
      assert.deepEqual(body.down, []);
      database = await openDatabase({ kind: "postgres", url: databaseUrl, maxConnections: 2 });
      await redis.connect();
    },
  },
  {
    name: "serves the build's static files and the public folder copied beside server.js",
    needs: [STARTED],
    async run() {
      const base = stack?.baseUrl ?? "";
      const html = await (await fetch(`${base}/pricing`)).text();
      const scripts = [...html.matchAll(/src="(\/_next\/static\/[^"]+\.js)"/g)].map((match) => match[1] ?? "");
      assert.ok(scripts.length > 0, "/pricing loads scripts from /_next/static");
      for (const script of scripts) {
        const response = await fetch(base + script);
        assert.equal(response.status, 200, `${script}`);
        await response.arrayBuffer();
      }
      const icon = await fetch(`${base}/icon-192.png`);
      assert.equal(icon.status, 200, "/icon-192.png (public/)");
      assert.equal(icon.headers.get("content-type"), "image/png");
      assert.deepEqual(Buffer.from(await icon.arrayBuffer()), fs.readFileSync(path.join("public", "icon-192.png")));
    },
  },
  {
    name: SIGNED_UP,
    needs: [STARTED],
    timeoutMs: 180_000,
    async run() {
      if (!stack) throw new Error("no stack");
      browser = await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: stack.baseUrl });
      context.setDefaultTimeout(20_000);
      context.setDefaultNavigationTimeout(60_000);
      context.on("dialog", (dialog) => void (dialog.type() === "beforeunload" ? dialog.accept() : dialog.dismiss()).catch(() => undefined));
      const page = await context.newPage();
      journey = {
        page,
        stack,
        browser,
        email: `standalone-${Date.now().toString(36)}${randomBytes(2).toString("hex")}@example.com`,
        password: "correct horse battery",
        starterBudget: BUDGET,
        step: (text) => steps.push(`${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s ${text}`),
        screenshot: async () => {},
      };
      await signUpFromPricing(journey);
      const row = await userRow(journey.email);
      assert.ok(row.emailVerified instanceof Date, "users.email_verified is set");
    },
  },
  {
    name: SUBSCRIBED,
    needs: [SIGNED_UP],
    timeoutMs: 180_000,
    async run() {
      const ctx = requireJourney();
      await subscribe(ctx, "Starter");
      const meter = ctx.page.getByTestId("billing-panel").getByTestId("budget-meter");
      expectEqual(parseTokens(await expectText(meter.getByTestId("tokens-remaining"), /\d/, "tokens remaining")), BUDGET, "a new plan starts with the full budget");
      const row = await userRow(ctx.email);
      assert.equal(row.planActive, true, "users.plan_active");
      assert.equal(row.planId, "starter", "users.plan_id");
      assert.equal(await redis.get(`chatbot-usage:${row.id}`), String(BUDGET), "Redis holds the full budget");
    },
  },
  {
    name: "a chat answer streams in and is charged to the budget in Redis",
    needs: [SUBSCRIBED],
    timeoutMs: 120_000,
    async run() {
      const ctx = requireJourney();
      const { page } = ctx;
      await page.goto(`${ctx.stack.baseUrl}/chat`);
      await expectText(page.getByRole("heading", { level: 1 }), "Chat", "chat heading");
      await page.getByLabel("Message").fill("How does the token budget work?");
      await page.getByRole("button", { name: "Send" }).click();
      await expectText(page.getByTestId("message-assistant").last(), /Every subscription comes with a token budget/, "the assistant's answer", 30_000);
      await expectVisible(page.getByRole("button", { name: "Send" }), "Send again after the answer", 30_000);
      const used = parseTokens(await expectText(page.getByTestId("last-usage"), /^Last answer used [\d,]+ tokens \(prompt \+ answer\)$/, "last usage"));
      expectTrue(used > 0, `an answer costs tokens (${used})`);
      expectEqual(parseTokens(await expectText(page.getByTestId("tokens-remaining"), /\d/, "meter")), BUDGET - used, "the meter drops by the answer's tokens");
      const row = await userRow(ctx.email);
      assert.equal(await redis.get(`chatbot-usage:${row.id}`), String(BUDGET - used), "Redis holds the budget less the answer");
    },
  },
];

let exitCode = 1;
try {
  console.log(`The standalone journey (Postgres, Redis through the bridge, the Stripe sandbox, Chromium)`);
  const outcomes = await runTests(tests, {
    onFailure: async (test) => {
      const dir = ensureDir(ARTIFACTS_DIR);
      const base = path.join(dir, test.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60).toLowerCase());
      await journey?.page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => undefined);
      fs.writeFileSync(`${base}.log`, [`url: ${journey?.page.url() ?? "-"}`, "--- steps ---", ...steps, "--- server output ---", stack?.logs() ?? ""].join("\n"));
      console.error(`      artifacts: ${base}.{png,log}`);
    },
  });
  exitCode = reportOutcomes(outcomes, startedAt);
} catch (error) {
  console.error("The suite could not run:", error);
} finally {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await stack?.stop().catch(() => undefined);
  await database?.close().catch(() => undefined);
  redis.disconnect();
}
process.exit(exitCode);

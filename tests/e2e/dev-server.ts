// The development server as a newcomer meets it: `npm run dev` with PORT set and no APP_URL (nor any other service
// variable), opened at http://127.0.0.1:<port> rather than localhost. Next serves its dev scripts only to the origins
// it allows (next.config.ts allowedDevOrigins), so this proves the pages hydrate there: sign-up answers, the header
// shows its links, the account page and the billing portal open, sign-out works.
// Env: CHROMIUM_PATH, E2E_REPORT (JSON {passed, failed}), DEV_E2E_PORT (else a free port), E2E_VERBOSE=1.
// Run: `npx tsx tests/e2e/dev-server.ts` (no build needed; it starts and stops its own `npm run dev`).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { chromium, type Browser, type Page } from "playwright-core";
import { freePort, type AppStack } from "../../scripts/app-stack";
import { isListening } from "../../scripts/local-services";
import { linkIn, waitForMessage } from "../support/mail-inbox";
import { fillCheckout, GOOD_CARD, submitAuthForm } from "./flows";
import { ensureDir, expectAfterReloads, expectHidden, expectPath, expectText, expectTrue, expectUrlPrefix, expectVisible, type JourneyContext } from "./harness";

const NAME = "dev server at 127.0.0.1: sign up, header links, account, billing portal, sign out";
// `next dev` compiles each route on its first request, which dominates the run: about a minute on an idle two-core
// machine, three or four when it is shared (each first compile then takes 20 s). The deadlines leave room for that.
const JOURNEY_TIMEOUT_MS = 180_000;
const READY_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 60_000;
// Compiled before the browser opens, so the journey's waits measure the app rather than the compiler.
const WARM_UP = ["/sign-up", "/pricing", "/account", "/sign-in", "/verify-email", "/api/ready"];
const ARTIFACTS_DIR = path.join("tests", "e2e", "artifacts");

// What a fresh clone has: none of the variables that point at real services or name the app's URL.
const UNSET = [
  "APP_URL",
  "DATABASE_URL",
  "REDIS_URL",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "STRIPE_API_BASE",
  "SMTP_URL",
  "OPENAI_API_KEY",
  "NODE_ENV",
  "EMBEDDED_DEFAULTS",
];

interface DevServer {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<boolean>;
}

function startDevServer(env: NodeJS.ProcessEnv): DevServer {
  let output = "";
  // Its own process group: `npm run dev` -> tsx scripts/dev.ts, which stops `next dev` and the sandboxes on SIGTERM.
  const child = spawn("npm", ["run", "dev"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (process.env.E2E_VERBOSE === "1") process.stdout.write(chunk);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || !child.pid) return true;
      const group = -child.pid;
      process.kill(group, "SIGTERM");
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
      if (!stopped) {
        try {
          process.kill(group, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
      return stopped;
    },
  };
}

async function waitUntilServing(baseUrl: string, server: DevServer): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`npm run dev exited (${server.child.exitCode}):\n${server.output()}`);
    try {
      const response = await fetch(baseUrl + "/", { signal: AbortSignal.timeout(30_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet, or still compiling
    }
    if (Date.now() > deadline) throw new Error(`the dev server did not answer on ${baseUrl} within ${READY_TIMEOUT_MS / 1000}s:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Each route the journey visits, requested once so `next dev` compiles it (any answer will do: /account redirects). */
async function warmUp(baseUrl: string): Promise<void> {
  for (const route of WARM_UP) {
    const response = await fetch(baseUrl + route, { redirect: "manual", signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
    await response.arrayBuffer();
  }
}

async function journey(ctx: JourneyContext, ports: { app: number }): Promise<void> {
  const { page, stack } = ctx;
  const base = stack.baseUrl;

  ctx.step("sign up at 127.0.0.1: the form answers (hydrated) and the header shows the account and its links");
  await page.goto(base + "/sign-up");
  await submitAuthForm(page, "sign-up", ctx.email, ctx.password);
  await expectText(page.getByTestId("session-email"), ctx.email, "signed up: the header shows the account", STEP_TIMEOUT_MS);
  expectTrue(new URL(page.url()).host === `127.0.0.1:${ports.app}`, `sign-up stays on 127.0.0.1 (at ${page.url()})`);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const link of ["Pricing", "Chat"]) await expectVisible(nav.getByRole("link", { name: link, exact: true }), `the header's ${link} link`);
  await expectVisible(nav.getByRole("button", { name: "Sign out" }), "the header's Sign out button");

  ctx.step("confirm the address from the local inbox (its link names APP_URL, localhost; opened at 127.0.0.1)");
  if (!stack.mailInboxUrl) throw new Error("no local inbox");
  const mail = await waitForMessage(stack.mailInboxUrl, ctx.email, "Confirm your email address", STEP_TIMEOUT_MS);
  const link = new URL(linkIn(mail, `http://localhost:${ports.app}/verify-email?token=`));
  await page.goto(base + link.pathname + link.search);
  await page.getByRole("button", { name: "Confirm email" }).click();
  await expectText(page.getByRole("status"), /^Your email address is confirmed/, "the address is confirmed", STEP_TIMEOUT_MS);

  ctx.step("subscribe to Starter through the sandbox's Checkout");
  await page.goto(base + "/pricing");
  await page.getByRole("button", { name: "Subscribe to Starter" }).click();
  await expectUrlPrefix(page, `${stack.stripeSandboxUrl}/checkout/`, "Subscribe opens the hosted checkout", STEP_TIMEOUT_MS);
  await fillCheckout(ctx, GOOD_CARD);
  // Checkout returns to the address the page was on (127.0.0.1, not APP_URL's localhost), where the session
  // cookie lives: the user comes back signed in.
  await expectUrlPrefix(page, `${base}/account?checkout=success`, "Checkout returns to 127.0.0.1, where the user signed in", STEP_TIMEOUT_MS);
  await expectText(page.getByTestId("session-email"), ctx.email, "back from Checkout, still signed in", STEP_TIMEOUT_MS);
  await expectAfterReloads(page, "the subscription reaches the account page", async () => {
    await expectText(page.getByTestId("plan-name"), "Starter", "account plan name", 2_000);
  }, STEP_TIMEOUT_MS);

  ctx.step("Manage billing opens the billing portal");
  await page.getByTestId("billing-panel").getByRole("button", { name: "Manage billing" }).click();
  await expectUrlPrefix(page, `${stack.stripeSandboxUrl}/portal/`, "Manage billing opens the hosted portal", STEP_TIMEOUT_MS);
  await expectText(page.getByRole("heading", { level: 2 }).first(), "Current plan", "the portal's first section");
  await expectText(page.getByText(ctx.email, { exact: true }), ctx.email, "the portal is for this customer");
  await page.getByRole("link", { name: /^Return to / }).click();
  await expectUrlPrefix(page, `${base}/account`, "the portal returns to 127.0.0.1 too", STEP_TIMEOUT_MS);

  ctx.step("sign out from the header");
  await expectVisible(page.getByTestId("session-email"), "signed in on the account page");
  await nav.getByRole("button", { name: "Sign out" }).click();
  await expectVisible(nav.getByRole("link", { name: "Sign in" }), "signed out: the header offers Sign in", STEP_TIMEOUT_MS);
  await expectHidden(page.getByTestId("session-email"), "signed out: no account in the header");
  await page.goto(base + "/account");
  await expectPath(page, /^\/sign-in\?callbackUrl=%2Faccount$/, "the account page asks to sign in again", STEP_TIMEOUT_MS);
}

async function main(): Promise<number> {
  const started = Date.now();
  const appPort = Number(process.env.DEV_E2E_PORT ?? (await freePort()));
  const [stripePort, smtpPort, mailPort, bridgePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  if (await isListening(appPort)) throw new Error(`port ${appPort} is in use`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-dev-"));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of UNSET) delete env[name];
  Object.assign(env, {
    PORT: String(appPort),
    DATA_DIR: dataDir,
    STRIPE_SANDBOX_PORT: String(stripePort),
    MAIL_SANDBOX_SMTP_PORT: String(smtpPort),
    MAIL_SANDBOX_PORT: String(mailPort),
    UPSTASH_BRIDGE_PORT: String(bridgePort),
    NEXT_TELEMETRY_DISABLED: "1",
  });

  const baseUrl = `http://127.0.0.1:${appPort}`;
  const steps: string[] = [];
  const step = (text: string) => {
    const line = `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s ${text}`;
    steps.push(line);
    if (process.env.E2E_VERBOSE === "1") console.log(`    ${line}`);
  };
  let browser: Browser | undefined;
  let error: unknown;
  console.log(`Starting npm run dev with PORT=${appPort}, no APP_URL…`);
  const server = startDevServer(env);
  let stopped = false;
  const stopAll = async () => {
    await browser?.close().catch(() => undefined);
    stopped = await server.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stopAll().finally(() => process.exit(130)));

  let page: Page | undefined;
  try {
    await waitUntilServing(baseUrl, server);
    step(`serving on ${baseUrl}`);
    await warmUp(baseUrl);
    step(`compiled ${WARM_UP.join(", ")}`);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(60_000);
    page = await context.newPage();
    const stack: AppStack = {
      baseUrl,
      stripeSandboxUrl: `http://127.0.0.1:${stripePort}`,
      mailInboxUrl: `http://127.0.0.1:${mailPort}`,
      logs: server.output,
      dataDir,
      pid: server.child.pid,
      stop: async () => void (await server.stop()),
    };
    const ctx: JourneyContext = {
      page,
      stack,
      browser,
      email: `dev-${Date.now().toString(36)}${randomBytes(2).toString("hex")}@example.com`,
      password: "correct horse battery",
      starterBudget: 0,
      step,
      screenshot: async () => undefined,
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      journey(ctx, { app: appPort }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`journey timed out after ${JOURNEY_TIMEOUT_MS / 1000}s`)), JOURNEY_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    // The symptom of a missing allowedDevOrigins entry: Next refuses its dev resources to the page's origin.
    const blocked = server.output().split("\n").filter((line) => /Blocked cross-origin request/i.test(line));
    expectTrue(blocked.length === 0, `next dev blocked requests from the page's origin:\n${blocked.join("\n")}`);
  } catch (caught) {
    error = caught;
    if (page) {
      const base = path.join(ensureDir(ARTIFACTS_DIR), "dev-server");
      await page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => undefined);
      fs.writeFileSync(
        `${base}.log`,
        [`url at failure: ${page.url()}`, "", caught instanceof Error ? (caught.stack ?? caught.message) : String(caught), "", "--- steps ---", ...steps, "", "--- npm run dev ---", server.output()].join("\n"),
      );
    }
  } finally {
    await stopAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  // The group is gone and nothing is left listening on the port (next dev runs in a group of its own).
  const portFreed = !(await isListening(appPort));
  if (!error && (!stopped || !portFreed)) error = new Error(`npm run dev did not stop cleanly (exited: ${stopped}, port ${appPort} free: ${portFreed})`);

  const ms = Date.now() - started;
  const ok = !error;
  const message = error instanceof Error ? error.message : error ? String(error) : undefined;
  console.log(`${ok ? "✓" : "✗"} ${NAME} (${(ms / 1000).toFixed(1)}s)${message ? `\n      ${message.split("\n").slice(0, 6).join("\n      ")}\n      artifacts: ${ARTIFACTS_DIR}/dev-server.{png,log}` : ""}`);
  console.log(`\n${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed in ${(ms / 1000).toFixed(1)}s`);
  if (process.env.E2E_REPORT) {
    fs.writeFileSync(process.env.E2E_REPORT, JSON.stringify({ passed: ok ? 1 : 0, failed: ok ? 0 : 1, journeys: [{ name: NAME, ok, ms, error: message }] }, null, 2));
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

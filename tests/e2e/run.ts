// The end-to-end suite: one production app stack (next start, the Stripe sandbox, PGlite or Postgres, the in-process
// store or Redis through the bridge), one Chromium, and each journey in a fresh browser context with a fresh user.
// Failures keep a screenshot, the journey's steps, the browser console and the server logs in tests/e2e/artifacts/.
// Env: CHROMIUM_PATH, E2E_REPORT (JSON {passed, failed}), E2E_SCREENSHOTS (folder for the README's screenshots),
// E2E_ONLY (run journeys whose name contains it, or any of its comma-separated parts), E2E_VERBOSE=1 (print every step as it happens).
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { chromium, type Browser } from "playwright-core";
import { startAppStack, type AppStack } from "../../scripts/app-stack";
import { ensureDir, type Journey, type JourneyContext } from "./harness";
import { chatBudgetJourney } from "./journeys/chat-budget";
import { creditPackJourney } from "./journeys/credit-pack";
import { declinedCardJourney } from "./journeys/declined-card";
import { emailAndResetJourney } from "./journeys/email-and-reset";
import { failedRenewalJourney } from "./journeys/failed-renewal";
import { keyboardJourney } from "./journeys/keyboard";
import { overageJourney } from "./journeys/overage";
import { pageAuditJourney } from "./journeys/page-audit";
import { portalJourney } from "./journeys/portal";
import { purchaseJourney } from "./journeys/purchase";
import { savedChatsJourney } from "./journeys/saved-chats";
import { signInRedirectJourney } from "./journeys/sign-in-redirect";
import { twoCheckoutsJourney } from "./journeys/two-checkouts";
import { yearlyRefillJourney } from "./journeys/yearly-refill";

const journeys: Journey[] = [
  purchaseJourney,
  chatBudgetJourney,
  portalJourney,
  declinedCardJourney,
  signInRedirectJourney,
  emailAndResetJourney,
  failedRenewalJourney,
  twoCheckoutsJourney,
  yearlyRefillJourney,
  savedChatsJourney,
  creditPackJourney,
  keyboardJourney,
  overageJourney,
  pageAuditJourney,
];

// Small enough to run out in a few answers of the demo model; Pro gets five times this.
const STARTER_BUDGET = 600;
const JOURNEY_TIMEOUT_MS = 180_000;
// A laptop's window; the page audit also runs every page at a phone's (390x844).
const VIEWPORT = { width: 1280, height: 800 };
const ARTIFACTS_DIR = path.join("tests", "e2e", "artifacts");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

interface Outcome {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const slug = (name: string) => name.split(":")[0]!.trim().replace(/[^a-z0-9]+/gi, "-").toLowerCase();

let stack: AppStack | undefined;
let browser: Browser | undefined;
let stopping: Promise<void> | undefined;

function stopEverything(): Promise<void> {
  stopping ??= (async () => {
    await browser?.close().catch((error: unknown) => console.error("closing Chromium failed", error));
    await stack?.stop().catch((error: unknown) => console.error("stopping the app stack failed", error));
  })();
  return stopping;
}

const signalExitCodes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
for (const signal of Object.keys(signalExitCodes) as Array<keyof typeof signalExitCodes>) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the browser and the app stack`);
    void stopEverything().finally(() => process.exit(signalExitCodes[signal]));
  });
}

async function runJourney(journey: Journey, runId: string, index: number): Promise<Outcome> {
  if (!stack || !browser) throw new Error("stack and browser must be started first");
  const started = Date.now();
  const context = await browser.newContext({ viewport: VIEWPORT, baseURL: stack.baseUrl });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(30_000);
  // Leaving a page with an unsaved chat asks first (beforeunload): answer as a person who meant to leave. Anything
  // else is unexpected and dismissed, as Playwright does by default.
  context.on("dialog", (dialog) => void (dialog.type() === "beforeunload" ? dialog.accept() : dialog.dismiss()).catch(() => undefined));
  const page = await context.newPage();
  const steps: string[] = [];
  const browserLog: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") browserLog.push(`[${message.type()}] ${message.text()} (${page.url()})`);
  });
  page.on("pageerror", (error) => browserLog.push(`[pageerror] ${error.message} (${page.url()})`));

  const screenshotsDir = process.env.E2E_SCREENSHOTS;
  const ctx: JourneyContext = {
    page,
    stack,
    browser,
    email: `e2e-${runId}-${index + 1}@example.com`,
    password: "correct horse battery",
    starterBudget: STARTER_BUDGET,
    step(text) {
      const line = `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s ${text}`;
      steps.push(line);
      if (process.env.E2E_VERBOSE === "1") console.log(`    ${line}`);
    },
    async screenshot(name) {
      if (!screenshotsDir) return;
      await page.screenshot({ path: path.join(ensureDir(screenshotsDir), `${name}.png`), type: "png" });
    },
  };

  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = journey.timeoutMs ?? JOURNEY_TIMEOUT_MS;
  try {
    await Promise.race([
      journey.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`journey timed out after ${timeoutMs / 1000}s`)), timeoutMs);
      }),
    ]);
    // The security headers' CSP must not block anything the pages need (hydration, styles, chat streaming).
    const violations = browserLog.filter((line) => /Content Security Policy/i.test(line));
    if (violations.length > 0) throw new Error(`CSP violations in the browser console:\n${violations.join("\n")}`);
    return { name: journey.name, ok: true, ms: Date.now() - started };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const dir = ensureDir(ARTIFACTS_DIR);
    const base = path.join(dir, `${String(index + 1).padStart(2, "0")}-${slug(journey.name)}`);
    await page.screenshot({ path: `${base}.png`, type: "png", fullPage: true }).catch(() => undefined);
    fs.writeFileSync(
      `${base}.log`,
      [
        `journey: ${journey.name}`,
        `user: ${ctx.email}`,
        `url at failure: ${page.url()}`,
        "",
        message,
        "",
        "--- steps ---",
        ...steps,
        "",
        "--- browser console ---",
        ...browserLog,
        "",
        "--- server output ---",
        stack.logs(),
      ].join("\n"),
    );
    return { name: journey.name, ok: false, ms: Date.now() - started, error: `${message.split("\n")[0]}\n      artifacts: ${base}.{png,log}` };
  } finally {
    clearTimeout(timer);
    await context.close().catch(() => undefined);
  }
}

/**
 * A fresh server's first renders (database start-up, each route's first load) took over 30 s on a loaded machine, which
 * the first journey's first navigation paid for and timed out on. Pay it here, once, with a patient deadline.
 */
async function warmUp(baseUrl: string): Promise<void> {
  const started = Date.now();
  for (const path of ["/", "/pricing", "/sign-in", "/sign-up", "/api/ready"]) {
    const response = await fetch(baseUrl + path, { signal: AbortSignal.timeout(120_000) });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`warm-up: ${path} answered ${response.status}`);
  }
  console.log(`Warmed up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

async function main(): Promise<number> {
  const only = process.env.E2E_ONLY;
  // Comma-separated parts of names: `E2E_ONLY="saved chats,keyboard"`.
  const parts = only?.split(",").map((part) => part.trim()).filter(Boolean) ?? [];
  const selected = parts.length > 0 ? journeys.filter((journey) => parts.some((part) => journey.name.includes(part))) : journeys;
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
  const outcomes: Outcome[] = [];
  const suiteStarted = Date.now();

  try {
    console.log(`Starting the app stack (${process.env.DATABASE_URL ? "Postgres" : "PGlite"}, ${process.env.REDIS_URL ? "Redis via the bridge" : "in-process budget store"})…`);
    // The journeys buy Starter as a customer who pays from the first day: Starter's free trial stays off here.
    // Overage is on (a monthly plan's Checkout adds the metered price); without a cap, chat still stops at the budget.
    stack = await startAppStack({ appEnv: { CHAT_TOKEN_BUDGET: String(STARTER_BUDGET), DEMO_MODEL_DELAY_MS: "10", STRIPE_NO_TRIALS: "1", BILLING_OVERAGE: "1" } });
    console.log(`App on ${stack.baseUrl}, Stripe sandbox on ${stack.stripeSandboxUrl}`);
    await warmUp(stack.baseUrl);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
      // Playwright's own handlers exit the process as soon as Chromium is gone, before the app stack is stopped.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });

    for (const [index, journey] of selected.entries()) {
      const outcome = await runJourney(journey, runId, index);
      outcomes.push(outcome);
      console.log(`${outcome.ok ? "✓" : "✗"} ${journey.name} (${(outcome.ms / 1000).toFixed(1)}s)${outcome.error ? `\n      ${outcome.error}` : ""}`);
    }
  } catch (error) {
    console.error("The suite could not run:", error);
    outcomes.push({ name: "setup", ok: false, ms: 0, error: String(error) });
  } finally {
    await stopEverything();
  }

  const passed = outcomes.filter((outcome) => outcome.ok).length;
  const failed = outcomes.length - passed;
  console.log(`\n${passed} passed, ${failed} failed in ${((Date.now() - suiteStarted) / 1000).toFixed(1)}s`);
  if (process.env.E2E_REPORT) {
    fs.writeFileSync(process.env.E2E_REPORT, JSON.stringify({ passed, failed, journeys: outcomes }, null, 2));
  }
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    void stopEverything().finally(() => process.exit(1));
  },
);

// Every page, as a visitor and as a user, at a laptop's and a phone's size, the sandbox's hosted pages included:
// nothing wider than the window, Account reachable from the header (the menu on a phone), no console errors, no
// failed requests, and axe-core finding no serious or critical accessibility violation. Then the things only a
// person notices: the header menu by keyboard, the chat's composer staying in view with its waiting state, a reload
// reopening the saved chat (no warning), the saved chats' drawer on a phone, and a deleted account leaving no stack
// trace in the server log.
import fs from "node:fs";
import { createRequire } from "node:module";
import { AssertionError } from "node:assert";
import type { Page } from "playwright-core";
import { expectPath, expectText, expectTrue, expectUrlPrefix, expectVisible, type Journey, type JourneyContext } from "../harness";
import { GOOD_CARD, fillCheckout, openPortal, signUpFromPricing } from "../flows";

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "mobile", width: 390, height: 844 },
] as const;
type Viewport = (typeof VIEWPORTS)[number];

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** What went wrong in the browser since the last `take()`: console errors, page errors, failed requests. */
function watchBrowser(page: Page) {
  let seen: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") seen.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => seen.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    const reason = request.failure()?.errorText ?? "unknown";
    // A navigation cancels the previous page's prefetches and streams: that is the browser's choice, not a failure.
    if (reason === "net::ERR_ABORTED") return;
    seen.push(`request failed: ${request.method()} ${request.url()} (${reason})`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) seen.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return {
    take(): string[] {
      const taken = seen;
      seen = [];
      return taken;
    },
  };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the current document (injected over CDP, so the CSP allows it). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as { axe?: unknown }).axe === "object");
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.slice(0, 4).map((node) => node.target.map(String).join(" ")),
      }));
  });
}

/** Elements reaching past the window's right edge, when the document is wider than the window. */
export async function overflow(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth <= width) return null;
    const culprits = [...document.body.querySelectorAll<HTMLElement>("*")]
      .filter((element) => element.getBoundingClientRect().right > width + 0.5)
      .slice(0, 5)
      .map((element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""}.${[...element.classList].slice(0, 4).join(".")} (right edge ${Math.round(element.getBoundingClientRect().right)})`);
    return `document is ${scrollWidth}px wide in a ${width}px window; past the edge: ${culprits.join(", ")}`;
  });
}

/** Account reachable from the header: its link on a laptop, the menu's Account item on a phone. */
async function accountInHeader(page: Page, viewport: Viewport): Promise<string | null> {
  const nav = page.getByRole("navigation", { name: "Main" });
  if (viewport.name === "desktop") {
    return (await nav.locator('a[href="/account"]').first().isVisible()) ? null : "no visible Account link in the header";
  }
  const button = page.getByTestId("menu-button");
  if (!(await button.isVisible())) return "no menu button in the header";
  await button.click();
  const item = page.locator("#mobile-menu").getByRole("link", { name: /^Account/ });
  const visible = await item.isVisible();
  await button.click();
  return visible ? null : "the header menu has no Account item";
}

export const pageAuditJourney: Journey = {
  // About forty pages at two sizes, each with axe: longer than a purchase journey.
  timeoutMs: 600_000,
  name: "page audit: every page at 1280x800 and 390x844 (overflow, header, console, requests, axe), keyboard menu, chat layout",
  async run(ctx) {
    const { page, stack } = ctx;
    const browser = watchBrowser(page);
    const problems: string[] = [];
    const report = (problem: string) => {
      problems.push(problem);
      ctx.step(`PROBLEM ${problem}`);
    };
    let audited = 0;

    /** Audits what the page shows now, at the viewport it has now. */
    async function audit(label: string, viewport: Viewport, options: { signedIn?: boolean } = {}) {
      const where = `${label} @${viewport.name}`;
      await page.waitForLoadState("networkidle", { timeout: 10_000 }).catch(() => undefined);
      // The header's session part arrives after hydration; the audit is of the page as it settles.
      if (new URL(page.url()).origin === new URL(stack.baseUrl).origin) {
        await page.locator('nav[aria-label="Main"] span[aria-hidden="true"].h-9').waitFor({ state: "detached", timeout: 10_000 }).catch(() => undefined);
      }
      const wide = await overflow(page);
      if (wide) report(`${where}: ${wide}`);
      if (options.signedIn) {
        const missing = await accountInHeader(page, viewport);
        if (missing) report(`${where}: ${missing}`);
      }
      for (const violation of await axeViolations(page)) {
        report(`${where}: axe ${violation.impact} ${violation.id} (${violation.help}) at ${violation.targets.join(" | ")}`);
      }
      for (const line of browser.take()) report(`${where}: ${line}`);
      audited += 1;
      ctx.step(`audited ${where}`);
    }

    async function visitAll(paths: readonly string[], options: { signedIn: boolean }) {
      for (const viewport of VIEWPORTS) {
        await page.setViewportSize(viewport);
        for (const path of paths) {
          browser.take();
          await page.goto(stack.baseUrl + path);
          await audit(`${options.signedIn ? "signed in" : "signed out"} ${path}`, viewport, options);
        }
      }
    }

    const everyPage = [
      "/",
      "/pricing",
      "/sign-in",
      "/sign-up",
      "/forgot-password",
      "/reset-password",
      "/reset-password?token=not-a-real-token",
      "/verify-email?token=not-a-real-token",
      "/account",
      "/chat",
      "/usage",
    ] as const;

    ctx.step("signed out: every page (account and chat send you to sign in)");
    await visitAll(everyPage, { signedIn: false });

    ctx.step("sign up from pricing and confirm the address");
    await page.setViewportSize(VIEWPORTS[0]);
    await signUpFromPricing(ctx);
    browser.take();
    await visitAll(everyPage, { signedIn: true });

    ctx.step("keyboard: on a phone, Tab to the menu button, open it with Enter, Tab to Account and follow it");
    await page.setViewportSize(VIEWPORTS[1]);
    await page.goto(stack.baseUrl + "/pricing");
    await expectVisible(page.getByTestId("menu-button"), "the menu button on a phone");
    const focused = () => page.evaluate(() => {
      const element = document.activeElement;
      return element ? `${element.getAttribute("data-testid") ?? ""}|${element.closest("#mobile-menu") ? "menu" : ""}|${(element.textContent ?? "").trim()}` : "";
    });
    let presses = 0;
    while (!(await focused()).startsWith("menu-button|")) {
      expectTrue(presses < 10, `Tab never reached the menu button (focus is on ${JSON.stringify(await focused())})`);
      await page.keyboard.press("Tab");
      presses += 1;
    }
    await page.keyboard.press("Enter");
    await expectVisible(page.locator("#mobile-menu"), "Enter opens the menu");
    expectTrue((await page.getByTestId("menu-button").getAttribute("aria-expanded")) === "true", "the menu button says the menu is open");
    await page.keyboard.press("Tab");
    expectTrue((await focused()).includes("|menu|"), `Tab from the open menu button goes into the menu (focus is on ${JSON.stringify(await focused())})`);
    presses = 0;
    while (!/\|menu\|Account/.test(await focused())) {
      expectTrue(presses < 6, `Tab never reached the menu's Account link (focus is on ${JSON.stringify(await focused())})`);
      await page.keyboard.press("Tab");
      presses += 1;
    }
    await page.keyboard.press("Enter");
    await expectPath(page, "/account", "Enter on the menu's Account link");
    browser.take();

    ctx.step("subscribe to Pro: the hosted Checkout at both sizes");
    await page.goto(stack.baseUrl + "/pricing");
    await ctx.screenshot("pricing-mobile");
    await page.getByRole("button", { name: "Subscribe to Pro" }).click();
    await expectUrlPrefix(page, `${stack.stripeSandboxUrl}/checkout/`, "Subscribe opens the hosted checkout", 20_000);
    await expectText(page.getByRole("heading", { level: 1 }), "Subscribe to Hourglass Pro", "hosted checkout heading", 20_000);
    await audit("hosted checkout", VIEWPORTS[1]);
    await ctx.screenshot("checkout-mobile");
    await page.setViewportSize(VIEWPORTS[0]);
    await audit("hosted checkout", VIEWPORTS[0]);
    await fillCheckout(ctx, GOOD_CARD);
    await expectPath(page, /^\/account\?checkout=success&session_id=cs_/, "Checkout's success redirect", 20_000);
    await expectText(page.getByTestId("plan-name"), "Pro", "account plan name after checkout");
    browser.take();

    ctx.step("a subscriber's account and chat at both sizes");
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      await page.goto(stack.baseUrl + "/account");
      await audit("subscriber /account", viewport, { signedIn: true });
      if (viewport.name === "mobile") await ctx.screenshot("account-mobile");
      await page.goto(stack.baseUrl + "/chat");
      await expectVisible(page.getByLabel("Message"), "the chat's message box");
      await audit("subscriber /chat (empty)", viewport, { signedIn: true });
      await chatLayout(ctx, viewport, report);
      await audit("subscriber /chat (three answers)", viewport, { signedIn: true });
      if (viewport.name === "mobile") await ctx.screenshot("chat-mobile");

      ctx.step(`reload with a conversation @${viewport.name}: no warning, the saved chat reopens`);
      const answers = await page.getByTestId("message-assistant").count();
      const dialog = page.waitForEvent("dialog", { timeout: 3_000 }).then((opened) => opened.type(), () => "none");
      await page.reload();
      expectTrue((await dialog) === "none", `a reload with a conversation on screen opens no dialog (saw ${await dialog})`);
      expectTrue(new URL(page.url()).searchParams.get("c") !== null, `the URL names the saved chat (${page.url()})`);
      await expectText(page.getByTestId("message-assistant").nth(answers - 1), /tokens \(prompt \+ answer\)/, `the reloaded chat shows all ${answers} answers`);
      await audit("subscriber /chat (reopened)", viewport, { signedIn: true });
      if (viewport.name === "mobile") {
        ctx.step("the saved chats' drawer on a phone");
        await page.getByRole("button", { name: "Chats", exact: true }).click();
        await expectVisible(page.getByTestId("chat-drawer").getByTestId("chat-link").first(), "the drawer lists the saved chats");
        // The modal drawer makes the header inert while it is open: no header check here.
        await audit("subscriber /chat (saved chats drawer)", viewport);
        await page.keyboard.press("Escape");
      }
      browser.take();
    }

    ctx.step("the billing portal and an invoice at both sizes");
    await page.setViewportSize(VIEWPORTS[0]);
    await page.goto(stack.baseUrl + "/account");
    await openPortal(ctx);
    await audit("hosted portal", VIEWPORTS[0]);
    await page.setViewportSize(VIEWPORTS[1]);
    await audit("hosted portal", VIEWPORTS[1]);
    await ctx.screenshot("portal-mobile");
    const invoiceLink = page.locator('a[href*="/invoice/"]').first();
    await expectVisible(invoiceLink, "the portal lists the first invoice");
    await invoiceLink.click();
    await expectText(page.getByRole("heading", { level: 1 }), /^Invoice /, "the hosted invoice page");
    await audit("hosted invoice", VIEWPORTS[1]);
    await page.setViewportSize(VIEWPORTS[0]);
    await audit("hosted invoice", VIEWPORTS[0]);

    ctx.step("delete the account: the server logs no stack trace for its last requests");
    await page.goto(stack.baseUrl + "/account");
    const logBefore = stack.logs().length;
    await page.getByRole("button", { name: "Delete account…" }).click();
    await page.getByRole("button", { name: "Yes, delete my account" }).click();
    await expectPath(page, "/", "after deleting the account, the home page");
    // The pages a deleted account's stale tabs would ask for next.
    for (const path of ["/account", "/chat", "/pricing"]) await page.goto(stack.baseUrl + path);
    await page.waitForLoadState("networkidle", { timeout: 10_000 }).catch(() => undefined);
    const logAfter = stack.logs().slice(logBefore);
    const stackLines = logAfter.split("\n").filter((line) => /^\s+at \S/.test(line) || /TRPCError/.test(line));
    expectTrue(stackLines.length === 0, `deleting an account logged a stack trace:\n${logAfter}`);
    browser.take();

    ctx.step(`${audited} audits done`);
    if (problems.length > 0) {
      throw new AssertionError({ message: `${problems.length} problem(s) across ${audited} page audits:\n  ${problems.join("\n  ")}` });
    }
  },
};

/**
 * Three answers on /chat: each time a visible waiting state between Send and the first word, and afterwards the
 * composer still inside the window with the conversation scrolling instead of the page.
 */
async function chatLayout(ctx: JourneyContext, viewport: Viewport, report: (problem: string) => void): Promise<void> {
  const { page } = ctx;
  const where = `subscriber /chat @${viewport.name}`;
  for (const question of ["How does the token budget work?", "Tell me about billing and plans.", "What is a good name for a cat?"]) {
    const answers = await page.getByTestId("message-assistant").count();
    // Records whether the waiting line appeared at all: with a fast model it may last only a few frames.
    await page.evaluate(() => {
      const flags = window as unknown as { sawWaiting?: boolean; waitingObserver?: MutationObserver };
      flags.sawWaiting = false;
      flags.waitingObserver?.disconnect();
      // No named functions in here: the bundler's name helper does not exist in the page.
      flags.waitingObserver = new MutationObserver(() => {
        const status = document.querySelector('[data-testid="chat-waiting"]');
        if (status?.getAttribute("role") === "status" && /Writing an answer/.test(status.textContent ?? "")) flags.sawWaiting = true;
      });
      flags.waitingObserver.observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    await page.getByLabel("Message").fill(question);
    await page.getByRole("button", { name: "Send" }).click();
    // An answer is done when its token count is shown (the metadata arrives with the finish).
    await expectText(page.getByTestId("message-assistant").nth(answers), /tokens \(prompt \+ answer\)/, `${where}: the answer to ${JSON.stringify(question)}`, 20_000);
    await expectVisible(page.getByRole("button", { name: "Send" }), `${where}: Send again after the answer to ${JSON.stringify(question)}`);
    expectTrue((await page.getByTestId("message-assistant").count()) === answers + 1, `${where}: one more answer after ${JSON.stringify(question)}`);
    const sawWaiting = await page.evaluate(() => (window as unknown as { sawWaiting?: boolean }).sawWaiting === true);
    if (!sawWaiting) report(`${where}: no "Writing an answer…" status between Send and the answer to ${JSON.stringify(question)}`);
  }
  await expectText(page.getByTestId("last-usage"), /^Last answer used [\d,]+ tokens \(prompt \+ answer\)$/, `${where}: the usage line says what it counts`);
  const layout = await page.evaluate(() => {
    const send = document.querySelector<HTMLElement>('form button[type="submit"]')?.getBoundingClientRect();
    const input = document.querySelector<HTMLElement>("#chat-input")?.getBoundingClientRect();
    const log = document.querySelector<HTMLElement>('[data-testid="chat-log"]');
    return {
      innerHeight: window.innerHeight,
      sendBottom: send?.bottom ?? Infinity,
      inputTop: input?.top ?? Infinity,
      pageScrolls: document.documentElement.scrollHeight > window.innerHeight + 1,
      // For the report when it does: who takes the height.
      heights: ["body > header", "main", '[data-testid="chat-page"]', '[data-testid="chat-page"] > header', '[data-testid="chat-page"] > section', '[data-testid="chat-page"] > form']
        .map((selector) => `${selector} ${[...document.querySelectorAll(selector)].map((element) => Math.round(element.getBoundingClientRect().height)).join("+")}`)
        .join(", "),
      scrollHeight: document.documentElement.scrollHeight,
      logScrolls: log ? log.scrollHeight > log.clientHeight : false,
    };
  });
  if (layout.sendBottom > layout.innerHeight || layout.inputTop < 0) {
    report(`${where}: after three answers the composer is out of view (Send ends at ${Math.round(layout.sendBottom)}px in a ${layout.innerHeight}px window)`);
  }
  if (layout.pageScrolls) {
    report(`${where}: the page scrolls instead of the conversation (${layout.scrollHeight}px in a ${layout.innerHeight}px window; ${layout.heights})`);
  }
  if (viewport.name === "mobile" && !layout.logScrolls) report(`${where}: three answers do not fill the conversation on a phone: its scrolling was not exercised`);
}

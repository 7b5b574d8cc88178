// What every journey gets from the runner, and the few assertions the suite needs. Assertions poll what the page
// shows until it matches or a deadline passes, then fail with what was last seen, so a failure reads like a bug report.
import { AssertionError } from "node:assert";
import fs from "node:fs";
import path from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import type { AppStack } from "../../scripts/app-stack";

export interface JourneyContext {
  page: Page;
  stack: AppStack;
  browser: Browser;
  /** A fresh address for this journey's user. */
  email: string;
  password: string;
  /** The Starter plan's tokens per period, as the app was started with. */
  starterBudget: number;
  /** Saves a README screenshot of the current page when E2E_SCREENSHOTS is set. */
  screenshot(name: string): Promise<void>;
  /** A line in the journey's log, shown when it fails. */
  step(text: string): void;
}

export interface Journey {
  name: string;
  /** How long the runner gives it; its default otherwise. */
  timeoutMs?: number;
  run(context: JourneyContext): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

async function poll<T>(
  read: () => Promise<T>,
  matches: (value: T) => boolean,
  timeoutMs: number,
): Promise<{ ok: boolean; last: T | undefined; error: unknown }> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await read();
      error = undefined;
      if (matches(last)) return { ok: true, last, error };
    } catch (caught) {
      error = caught;
    }
    if (Date.now() > deadline) return { ok: false, last, error };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const describeMatcher = (expected: string | RegExp) => (typeof expected === "string" ? JSON.stringify(expected) : String(expected));
const textMatches = (text: string, expected: string | RegExp) =>
  typeof expected === "string" ? text.replace(/\s+/g, " ").trim() === expected : expected.test(text);

/** The locator's visible text, once it matches `expected` (a string must match whole, whitespace collapsed). */
export async function expectText(locator: Locator, expected: string | RegExp, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  const result = await poll(() => locator.first().innerText({ timeout: 1_000 }), (text) => textMatches(text, expected), timeoutMs);
  if (!result.ok) {
    const seen = result.last === undefined ? `nothing (${String(result.error).split("\n")[0]})` : JSON.stringify(result.last);
    throw new AssertionError({ message: `${what}: expected ${describeMatcher(expected)}, page shows ${seen}` });
  }
  return result.last ?? "";
}

export async function expectVisible(locator: Locator, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const result = await poll(() => locator.first().isVisible(), Boolean, timeoutMs);
  if (!result.ok) throw new AssertionError({ message: `${what}: expected it on the page, it is not there (${locator.page().url()})` });
}

export async function expectHidden(locator: Locator, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const result = await poll(() => locator.count(), (count) => count === 0, timeoutMs);
  if (!result.ok) {
    const text = await locator.first().innerText({ timeout: 1_000 }).catch(() => "");
    throw new AssertionError({ message: `${what}: expected it to be gone, the page still shows ${JSON.stringify(text)}` });
  }
}

export async function expectPath(page: Page, expected: string | RegExp, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const pathOf = () => {
    const url = new URL(page.url());
    return url.pathname + url.search;
  };
  const result = await poll(async () => pathOf(), (p) => (typeof expected === "string" ? p === expected : expected.test(p)), timeoutMs);
  if (!result.ok) throw new AssertionError({ message: `${what}: expected to be at ${describeMatcher(expected)}, the browser is at ${page.url()}` });
}

export async function expectUrlPrefix(page: Page, prefix: string, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const result = await poll(async () => page.url(), (url) => url.startsWith(prefix), timeoutMs);
  if (!result.ok) throw new AssertionError({ message: `${what}: expected a URL starting with ${prefix}, the browser is at ${page.url()}` });
}

/**
 * Reloads until `check` passes: for state that arrives by webhook after the page was rendered, as a person would
 * refresh. Fails with the last assertion error.
 */
export async function expectAfterReloads(page: Page, what: string, check: () => Promise<void>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new AssertionError({ message: `${what} (after reloading for ${timeoutMs / 1000}s): ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.reload();
  }
}

export function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new AssertionError({ message: `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`, actual, expected });
}

export function expectTrue(condition: boolean, what: string): void {
  if (!condition) throw new AssertionError({ message: what });
}

/** "1,234" as shown by the budget meter. */
export function parseTokens(text: string): number {
  const digits = text.replace(/[^\d]/g, "");
  if (digits === "") throw new AssertionError({ message: `expected a token count, got ${JSON.stringify(text)}` });
  return Number(digits);
}

/** The date as the app prints it (lib/format's formatDate: "March 5, 2026", UTC). */
export function formatDateLikeApp(value: Date | number): string {
  return new Date(value).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

export function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return path.resolve(dir);
}

export async function expectInputValue(locator: Locator, expected: string, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const result = await poll(() => locator.first().inputValue({ timeout: 1_000 }), (value) => value === expected, timeoutMs);
  if (!result.ok) throw new AssertionError({ message: `${what}: expected the field to hold ${JSON.stringify(expected)}, it holds ${JSON.stringify(result.last)}` });
}

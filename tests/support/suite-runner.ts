// A small runner for suites that drive real servers from a script (tsx), outside vitest: named tests in order, each
// with a deadline, a line each as it ends, the closing "N passed, N failed" line, and the JSON report .ci/run reads
// (E2E_REPORT: { passed, failed, tests }). A test may depend on earlier ones: when one of those failed, it is not run
// and counts as failed, saying which.
import fs from "node:fs";

export interface SuiteTest {
  name: string;
  /** Names of earlier tests whose outcome this one needs. */
  needs?: string[];
  timeoutMs?: number;
  run(): Promise<void>;
}

export interface TestOutcome {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export async function runTests(tests: SuiteTest[], options: { onFailure?: (test: SuiteTest, error: unknown) => void | Promise<void> } = {}): Promise<TestOutcome[]> {
  const outcomes: TestOutcome[] = [];
  for (const test of tests) {
    const started = Date.now();
    const missing = (test.needs ?? []).filter((name) => !outcomes.find((outcome) => outcome.name === name)?.ok);
    let outcome: TestOutcome;
    if (missing.length > 0) {
      outcome = { name: test.name, ok: false, ms: 0, error: `not run: needs ${missing.map((name) => JSON.stringify(name)).join(", ")}, which failed` };
    } else {
      let timer: NodeJS.Timeout | undefined;
      const timeoutMs = test.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      try {
        await Promise.race([
          test.run(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000}s`)), timeoutMs);
          }),
        ]);
        outcome = { name: test.name, ok: true, ms: Date.now() - started };
      } catch (error) {
        await options.onFailure?.(test, error);
        outcome = { name: test.name, ok: false, ms: Date.now() - started, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
      } finally {
        clearTimeout(timer);
      }
    }
    outcomes.push(outcome);
    console.log(`${outcome.ok ? "✓" : "✗"} ${outcome.name} (${(outcome.ms / 1000).toFixed(1)}s)${outcome.error ? `\n      ${outcome.error.split("\n").slice(0, 8).join("\n      ")}` : ""}`);
  }
  return outcomes;
}

/** Prints the closing line, writes E2E_REPORT when set; the process's exit code (0 only when all of at least one passed). */
export function reportOutcomes(outcomes: TestOutcome[], startedAt: number): number {
  const passed = outcomes.filter((outcome) => outcome.ok).length;
  const failed = outcomes.length - passed;
  console.log(`\n${passed} passed, ${failed} failed in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
  if (process.env.E2E_REPORT) fs.writeFileSync(process.env.E2E_REPORT, JSON.stringify({ passed, failed, tests: outcomes }, null, 2));
  return failed === 0 && passed > 0 ? 0 : 1;
}

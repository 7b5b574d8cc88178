// Readiness, for load balancers and orchestrators deciding whether to send this instance traffic: the database
// answers a query and the budget store answers a read, each within a few seconds. Liveness is /api/health, which
// touches neither (a slow dependency must not get a healthy process restarted).
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { getBudgetStore, type BudgetStore } from "@/server/usage";

export type Dependency = "database" | "budgetStore";

export interface DependencyCheck {
  ok: boolean;
  /** How long the check took, in milliseconds. */
  ms: number;
  /** Why it failed: "timed out after N ms" or the error's class; details go to the server log only. */
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<Dependency, DependencyCheck>;
  /** The dependencies that did not answer, in a stable order. */
  down: Dependency[];
}

export interface ReadinessDeps {
  db?: () => Promise<Db>;
  store?: () => BudgetStore;
  timeoutMs?: number;
}

/** A user id nobody has: reading its budget exercises the store end to end and changes nothing. */
export const READINESS_PROBE_USER = "readiness-probe";

export async function checkReadiness(deps: ReadinessDeps = {}): Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? 3_000;
  const [database, budgetStore] = await Promise.all([
    timed("database", timeoutMs, async () => {
      await (await (deps.db ?? getDb)()).execute(sql`select 1`);
    }),
    timed("budgetStore", timeoutMs, async () => {
      await (deps.store ?? getBudgetStore)().read(READINESS_PROBE_USER);
    }),
  ]);
  const checks = { database, budgetStore };
  const down = (Object.keys(checks) as Dependency[]).filter((name) => !checks[name].ok);
  return { ready: down.length === 0, checks, down };
}

async function timed(name: Dependency, timeoutMs: number, check: () => Promise<void>): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([check().then(() => "ok" as const), timeout]);
    const ms = Math.round(performance.now() - started);
    if (outcome === "timeout") {
      console.error(`readiness: ${name} did not answer within ${timeoutMs} ms`);
      return { ok: false, ms, error: `timed out after ${timeoutMs} ms` };
    }
    return { ok: true, ms };
  } catch (error) {
    console.error(`readiness: ${name} failed`, error);
    const kind = error instanceof Error ? error.name : "Error";
    return { ok: false, ms: Math.round(performance.now() - started), error: kind };
  } finally {
    clearTimeout(timer);
  }
}

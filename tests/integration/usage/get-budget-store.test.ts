import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { env } from "@/lib/env";
import { getBudgetStore, readBudget, resetBudget } from "@/server/usage";

describe.runIf(!env.UPSTASH_REDIS_REST_URL)("getBudgetStore without Upstash settings", () => {
  it("uses one process-wide in-process store, kept across module reloads and restarts", async () => {
    const store = getBudgetStore();
    expect(getBudgetStore()).toBe(store);
    expect(Reflect.get(globalThis, "hourglassMemoryBudgetStore")).toBe(store);

    const user = `default-${randomUUID()}`;
    const end = new Date(Date.now() + 60_000);
    expect(await resetBudget(user, 500, end)).toEqual({ applied: true, tokensRemaining: 500 });
    expect(await store.reserve(user, "r", 200)).toMatchObject({ ok: true, granted: 200 });
    expect(await readBudget(user)).toEqual({ tokensRemaining: 300, resetsAt: end });
    // Kept in DATA_DIR too, so a restarted dev server finds it.
    const saved = JSON.parse(fs.readFileSync(path.join(env.DATA_DIR, "budgets.json"), "utf8"));
    expect(saved.budgets[user]).toEqual({ tokensRemaining: 300, periodEndMs: end.getTime(), capTokens: 500 });
  });
});

// The chat route's overhead: the handler in process with the real budget store against a no-op store (demo model at
// 0 delay), so the budget's share is isolated; and the whole route over HTTP on the production server.
import { log, type BenchContext } from "./context";
import type { BudgetStore } from "./budget";
import { medianRun, round, timed, type RunResult } from "./stats";

export const CHAT_BODY = JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "How does the token budget work?" }] }] });

/** POST /api/chat over HTTP with a session cookie, answers read to their end. */
export async function measureChatOverHttp(post: () => Promise<number>, runs: number): Promise<RunResult> {
  const statuses = new Map<number, number>();
  const once = async () => {
    const status = await post();
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    return status === 200;
  };
  await timed(30, 1, once); // warm-up
  const results: RunResult[] = [];
  for (let r = 0; r < runs; r++) results.push(await timed(200, 1, once));
  const figures = medianRun(results);
  if (figures.errors > 0) {
    const seen = [...statuses].map(([status, n]) => `${status} x${n}`).join(", ");
    throw new Error(`/api/chat over HTTP: ${figures.errors} requests were not answered 200 (statuses: ${seen})`);
  }
  log(`chat over HTTP: p50 ${round(figures.p50)} p99 ${round(figures.p99)} ms`);
  return figures;
}

export async function measureChatOverhead(ctx: BenchContext, options: { store: BudgetStore; userId: string; periodEnd: Date; runs: number }) {
  const { store, userId, periodEnd, runs } = options;
  const noopStore: BudgetStore = {
    reserve: async (_u, _r, upperBound) => ({ ok: true, granted: upperBound, tokensRemaining: 1_000_000 }),
    settle: async () => ({ applied: true, tokensRemaining: 1_000_000 }),
    reset: async () => ({ applied: true, tokensRemaining: 1_000_000 }),
    restore: async () => ({ applied: false, tokensRemaining: 1_000_000 }),
    raiseCap: async () => ({ applied: false, tokensRemaining: 1_000_000 }),
    read: async () => ({ tokensRemaining: 1_000_000, resetsAt: periodEnd }),
    grantPack: async () => ({ applied: false, packTokens: 0 }),
    revokePack: async () => ({ applied: false, tokensRemoved: 0, packTokens: 0 }),
    readPacks: async () => [],
    forget: async () => {},
  };
  await store.reset(userId, 1_000_000_000, periodEnd);
  const model = ctx.app.createDemoModel({ delayMs: 0 });
  const chatOnce = (budgetStore: BudgetStore) => async () => {
    const response = await ctx.app.handleChatRequest(new Request("http://app/api/chat", { method: "POST", body: CHAT_BODY }), { userId }, {
      store: budgetStore,
      model,
      getEntitlement: async () => ({ active: true, tokenBudget: 1_000_000_000, periodEndsAt: periodEnd, models: ["small"] }),
      restoreBudget: async () => {},
    });
    await response.text();
    return response.status === 200;
  };
  await timed(50, 1, chatOnce(noopStore));
  await timed(50, 1, chatOnce(store));
  const real: RunResult[] = [];
  const noop: RunResult[] = [];
  for (let r = 0; r < runs; r++) {
    noop.push(await timed(300, 1, chatOnce(noopStore)));
    real.push(await timed(300, 1, chatOnce(store)));
  }
  const withBudget = medianRun(real);
  const withoutBudget = medianRun(noop);
  log(`chat: with budget p50 ${round(withBudget.p50)} p99 ${round(withBudget.p99)}; no-op p50 ${round(withoutBudget.p50)} p99 ${round(withoutBudget.p99)} ms`);
  return {
    withBudget,
    noopStore: withoutBudget,
    overheadP50Ms: withBudget.p50 - withoutBudget.p50,
    overheadP99Ms: withBudget.p99 - withoutBudget.p99,
  };
}

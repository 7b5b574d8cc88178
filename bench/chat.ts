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

/**
 * The handler three ways, alternated in each run: a no-op store (the reference); the real store on the seed's path
 * (the default model, nothing saved); and everything metering adds: the weighted large model, an answer paid from a
 * credit pack (the period's budget is one token, so every reservation reaches the pack) and the turn saved to the
 * chat's history in the database. `historyUserId` must be a user in the database (chats belong to users).
 */
export async function measureChatOverhead(
  ctx: BenchContext,
  options: { store: BudgetStore; userId: string; historyUserId: string; periodEnd: Date; runs: number },
) {
  const { store, userId, historyUserId, periodEnd, runs } = options;
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
  await store.reset(historyUserId, 1, periodEnd);
  await store.grantPack(historyUserId, `bench-pack-${crypto.randomUUID()}`, 1_000_000_000, new Date(periodEnd.getTime() + 86_400_000));
  const model = ctx.app.createDemoModel({ delayMs: 0 });
  const chatOnce = (budgetStore: BudgetStore, metered = false) => async () => {
    const body = metered ? JSON.stringify({ ...JSON.parse(CHAT_BODY), id: historyChatId, model: "large" }) : CHAT_BODY;
    const response = await ctx.app.handleChatRequest(new Request("http://app/api/chat", { method: "POST", body }), { userId: metered ? historyUserId : userId }, {
      store: budgetStore,
      model,
      getEntitlement: async () => ({ active: true, tokenBudget: 1_000_000_000, periodEndsAt: periodEnd, models: ["small", "large"] }),
      restoreBudget: async () => {},
    });
    await response.text();
    return response.status === 200;
  };
  const historyChatId = `bench-${crypto.randomUUID().slice(0, 8)}`;
  await timed(50, 1, chatOnce(noopStore));
  await timed(50, 1, chatOnce(store));
  await timed(50, 1, chatOnce(store, true));
  const real: RunResult[] = [];
  const noop: RunResult[] = [];
  const meteredRuns: RunResult[] = [];
  for (let r = 0; r < runs; r++) {
    noop.push(await timed(300, 1, chatOnce(noopStore)));
    real.push(await timed(300, 1, chatOnce(store)));
    meteredRuns.push(await timed(300, 1, chatOnce(store, true)));
  }
  // Every metered answer was really saved (a turn and an answer each), else the figure would time failed writes.
  const meteredAnswers = 50 + runs * 300;
  const saved = await ctx.app.countChatMessages(historyUserId, historyChatId);
  if (saved !== 2 * meteredAnswers) throw new Error(`the metered chat saved ${saved} messages for ${meteredAnswers} answers (expected ${2 * meteredAnswers})`);
  const withBudget = medianRun(real);
  const withoutBudget = medianRun(noop);
  const metered = medianRun(meteredRuns);
  if (metered.errors > 0) throw new Error(`chat with a pack, the large model and history: ${metered.errors} requests were not answered 200`);
  log(
    `chat: with budget p50 ${round(withBudget.p50)} p99 ${round(withBudget.p99)}; metered (large model, pack, history) p50 ${round(metered.p50)} ` +
      `p99 ${round(metered.p99)}; no-op p50 ${round(withoutBudget.p50)} p99 ${round(withoutBudget.p99)} ms`,
  );
  return {
    withBudget,
    noopStore: withoutBudget,
    overheadP50Ms: withBudget.p50 - withoutBudget.p50,
    overheadP99Ms: withBudget.p99 - withoutBudget.p99,
    metered,
    meteredOverheadP50Ms: metered.p50 - withoutBudget.p50,
  };
}

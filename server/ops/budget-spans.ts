// Spans around the token budget's writes: budget.reserve, budget.settle, budget.reset (the refill of a new or renewed
// period), budget.restore, budget.raise_cap (an upgrade) and budget.grant_pack / revoke_pack (credit packs), each with the user, the tokens asked for and the store's answer. A decorator over
// any BudgetStore, applied where the app picks its store, so the stores themselves stay untouched.
import type { BudgetStore } from "@/server/usage/budget-store";
import { inSpan } from "./telemetry";

const traced = new WeakMap<BudgetStore, BudgetStore>();

/** The same store with a span around each write; the same wrapper for the same store, every time. */
export function tracedBudgetStore(store: BudgetStore): BudgetStore {
  const existing = traced.get(store);
  if (existing) return existing;
  const wrapper: BudgetStore = {
    reserve: (userId, requestId, upperBound) =>
      inSpan("budget.reserve", { "hourglass.user_id": userId, "hourglass.chat_request_id": requestId, "budget.upper_bound": upperBound }, async (span) => {
        const result = await store.reserve(userId, requestId, upperBound);
        span.setAttributes({ "budget.granted": result.ok ? result.granted : 0, "budget.tokens_remaining": result.tokensRemaining, "budget.refused": !result.ok });
        return result;
      }),
    settle: (userId, requestId, actualTokens) =>
      inSpan("budget.settle", { "hourglass.user_id": userId, "hourglass.chat_request_id": requestId, "budget.actual_tokens": actualTokens }, async (span) => {
        const result = await store.settle(userId, requestId, actualTokens);
        span.setAttributes({ "budget.applied": result.applied, "budget.tokens_remaining": result.tokensRemaining });
        return result;
      }),
    reset: (userId, budget, periodEnd) =>
      inSpan("budget.reset", { "hourglass.user_id": userId, "budget.tokens": budget, "budget.period_end": periodEnd.toISOString() }, async (span) => {
        const result = await store.reset(userId, budget, periodEnd);
        span.setAttributes({ "budget.applied": result.applied, "budget.tokens_remaining": result.tokensRemaining });
        return result;
      }),
    restore: (userId, budget, periodEnd) =>
      inSpan("budget.restore", { "hourglass.user_id": userId, "budget.tokens": budget, "budget.period_end": periodEnd.toISOString() }, async (span) => {
        const result = await store.restore(userId, budget, periodEnd);
        span.setAttributes({ "budget.applied": result.applied, "budget.tokens_remaining": result.tokensRemaining });
        return result;
      }),
    raiseCap: (userId, cap, periodEnd, options) =>
      inSpan("budget.raise_cap", { "hourglass.user_id": userId, "budget.cap": cap, "budget.period_end": periodEnd.toISOString() }, async (span) => {
        const result = await store.raiseCap(userId, cap, periodEnd, options);
        span.setAttributes({ "budget.applied": result.applied, "budget.tokens_remaining": result.tokensRemaining });
        return result;
      }),
    grantPack: (userId, packId, tokens, expiresAt) =>
      inSpan("budget.grant_pack", { "hourglass.user_id": userId, "budget.pack_id": packId, "budget.tokens": tokens }, async (span) => {
        const result = await store.grantPack(userId, packId, tokens, expiresAt);
        span.setAttributes({ "budget.applied": result.applied, "budget.pack_tokens": result.packTokens });
        return result;
      }),
    revokePack: (userId, packId) =>
      inSpan("budget.revoke_pack", { "hourglass.user_id": userId, "budget.pack_id": packId }, async (span) => {
        const result = await store.revokePack(userId, packId);
        span.setAttributes({ "budget.applied": result.applied, "budget.tokens_removed": result.tokensRemoved });
        return result;
      }),
    read: (userId) => store.read(userId),
    readPacks: (userId) => store.readPacks(userId),
    forget: (userId) => store.forget(userId),
  };
  traced.set(store, wrapper);
  return wrapper;
}

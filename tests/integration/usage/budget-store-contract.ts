// The behaviour every BudgetStore must have, written once and run against each store (see *.test.ts here).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { BudgetStore } from "@/server/usage";

export interface BudgetStoreHarness {
  createStore(options?: { reservationTtlMs?: number }): BudgetStore;
  /** The store's clock in ms: an injected one, or the real time Redis also follows. */
  now(): number;
  /** Lets `ms` pass: moves an injected clock, or really waits (keep it short for Redis). */
  advance(ms: number): Promise<void>;
  /** A prefix for user ids, so parallel runs and cleanup stay apart. */
  userPrefix: string;
  /**
   * Loses only the user's budget key, its period marker surviving (Redis evicting or an operator deleting
   * `chatbot-usage:<id>`). Omitted by a store that keeps both in one record and so cannot lose one alone.
   */
  loseBudgetKey?(userId: string): Promise<void>;
}

const HOUR = 60 * 60 * 1000;

export function describeBudgetStoreContract(name: string, harness: () => BudgetStoreHarness) {
  describe(`${name}: budget store contract`, () => {
    const user = () => `${harness().userPrefix}${randomUUID()}`;
    const store = (options?: { reservationTtlMs?: number }) => harness().createStore(options);
    // Whole seconds keep the dates comparable with Stripe's, though the stores are exact to the millisecond.
    const periodEnd = (fromNowMs = HOUR) => new Date(Math.ceil((harness().now() + fromNowMs) / 1000) * 1000);

    it("has no budget for a user never reset, and refuses to reserve with no reset date", async () => {
      const s = store();
      const u = user();
      expect(await s.read(u)).toBeNull();
      expect(await s.reserve(u, "r1", 10)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: null });
      expect(await s.settle(u, "r1", 10)).toEqual({ applied: false, tokensRemaining: 0 });
      expect(await s.read(u)).toBeNull();
    });

    it("starts a period with the budget, expiring at the period end", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      expect(await s.reset(u, 1_000, end)).toEqual({ applied: true, tokensRemaining: 1_000 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 1_000, resetsAt: end });
    });

    it("grants min(upperBound, remaining) and refuses once nothing is left, saying when it resets", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      await s.reset(u, 1_000, end);
      expect(await s.reserve(u, "a", 300)).toEqual({ ok: true, granted: 300, tokensRemaining: 700 });
      expect(await s.reserve(u, "b", 900)).toEqual({ ok: true, granted: 700, tokensRemaining: 0 });
      expect(await s.reserve(u, "c", 1)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: end });
      expect(await s.read(u)).toEqual({ tokensRemaining: 0, resetsAt: end });
    });

    it("returns the first grant to a retried reserve and holds nothing more", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, periodEnd());
      expect(await s.reserve(u, "a", 400)).toEqual({ ok: true, granted: 400, tokensRemaining: 600 });
      expect(await s.reserve(u, "a", 400)).toEqual({ ok: true, granted: 400, tokensRemaining: 600 });
      expect(await s.reserve(u, "a", 50)).toEqual({ ok: true, granted: 400, tokensRemaining: 600 });
      expect((await s.read(u))?.tokensRemaining).toBe(600);
    });

    it("refunds the unused part of a grant on settle, and a second settle changes nothing", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, periodEnd());
      await s.reserve(u, "a", 400);
      expect(await s.settle(u, "a", 150)).toEqual({ applied: true, tokensRemaining: 850 });
      expect(await s.settle(u, "a", 150)).toEqual({ applied: false, tokensRemaining: 850 });
      expect(await s.settle(u, "a", 0)).toEqual({ applied: false, tokensRemaining: 850 });
      // A reserve retried after its settle must not hold tokens again.
      expect(await s.reserve(u, "a", 400)).toEqual({ ok: true, granted: 400, tokensRemaining: 850 });
      expect((await s.read(u))?.tokensRemaining).toBe(850);
    });

    it("charges usage beyond the grant, never below zero", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, periodEnd());
      await s.reserve(u, "a", 400);
      expect(await s.settle(u, "a", 700)).toEqual({ applied: true, tokensRemaining: 300 });
      await s.reserve(u, "b", 200);
      await s.reserve(u, "c", 500);
      expect(await s.settle(u, "b", 5_000)).toEqual({ applied: true, tokensRemaining: 0 });
      expect(await s.settle(u, "c", 100)).toEqual({ applied: true, tokensRemaining: 0 });
      expect(await s.read(u)).toMatchObject({ tokensRemaining: 0 });
    });

    it("ignores a settle for a request it never reserved", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, periodEnd());
      expect(await s.settle(u, "never", 10)).toEqual({ applied: false, tokensRemaining: 1_000 });
      expect((await s.read(u))?.tokensRemaining).toBe(1_000);
    });

    it("applies a reset once per period: a redelivered reset does not refill a used budget", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      await s.reset(u, 1_000, end);
      await s.reserve(u, "a", 400);
      expect(await s.reset(u, 1_000, end)).toEqual({ applied: false, tokensRemaining: 600 });
      expect(await s.reset(u, 5_000, new Date(end.getTime()))).toEqual({ applied: false, tokensRemaining: 600 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 600, resetsAt: end });
    });

    it("ignores a stale reset for an older period and applies a newer one", async () => {
      const s = store();
      const u = user();
      const first = periodEnd(HOUR);
      const second = periodEnd(2 * HOUR);
      expect(await s.reset(u, 1_000, second)).toMatchObject({ applied: true });
      await s.reserve(u, "a", 250);
      expect(await s.reset(u, 1_000, first)).toEqual({ applied: false, tokensRemaining: 750 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 750, resetsAt: second });
      const third = periodEnd(3 * HOUR);
      expect(await s.reset(u, 2_000, third)).toEqual({ applied: true, tokensRemaining: 2_000 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 2_000, resetsAt: third });
    });

    it("ignores a reset whose period has already ended", async () => {
      const s = store();
      const u = user();
      expect(await s.reset(u, 1_000, new Date(harness().now() - 1_000))).toEqual({
        applied: false,
        tokensRemaining: 0,
      });
      expect(await s.read(u)).toBeNull();
    });

    it("does not refund an old period's hold into a new period", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, periodEnd(HOUR));
      await s.reserve(u, "a", 400);
      await s.reset(u, 1_000, periodEnd(2 * HOUR));
      expect(await s.settle(u, "a", 100)).toEqual({ applied: true, tokensRemaining: 1_000 });
      expect(await s.settle(u, "a", 100)).toEqual({ applied: false, tokensRemaining: 1_000 });
    });

    it("treats a zero budget as nothing left, with its reset date", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      expect(await s.reset(u, 0, end)).toEqual({ applied: true, tokensRemaining: 0 });
      expect(await s.reserve(u, "a", 1)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: end });
    });

    it("drops the budget and its marker at the period end", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, new Date(harness().now() + 1_200));
      await s.reserve(u, "a", 100);
      await harness().advance(1_600);
      expect(await s.read(u)).toBeNull();
      expect(await s.reserve(u, "b", 100)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: null });
      // The old hold settles without touching anything, and the next period starts cleanly.
      expect(await s.settle(u, "a", 50)).toEqual({ applied: true, tokensRemaining: 0 });
      const next = periodEnd();
      expect(await s.reset(u, 1_000, next)).toEqual({ applied: true, tokensRemaining: 1_000 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 1_000, resetsAt: next });
    });

    it("keeps an unsettled reservation charged after it expires; a late settle is a no-op", async () => {
      const s = store({ reservationTtlMs: 1_000 });
      const u = user();
      await s.reset(u, 1_000, periodEnd());
      await s.reserve(u, "a", 400);
      await harness().advance(1_400);
      expect(await s.settle(u, "a", 10)).toEqual({ applied: false, tokensRemaining: 600 });
      expect((await s.read(u))?.tokensRemaining).toBe(600);
    });

    it("restore leaves an existing budget alone, and does nothing without a record of the period", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      expect(await s.restore(u, 1_000, end)).toEqual({ applied: false, tokensRemaining: 0 });
      expect(await s.read(u)).toBeNull();
      await s.reset(u, 1_000, end);
      await s.reserve(u, "a", 400);
      expect(await s.restore(u, 1_000, end)).toEqual({ applied: false, tokensRemaining: 600 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 600, resetsAt: end });
    });

    it.runIf(harness().loseBudgetKey)("restore puts back a budget lost under its surviving period marker, to the full budget, once", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      await s.reset(u, 1_000, end);
      await s.reserve(u, "a", 400);
      await harness().loseBudgetKey?.(u);
      expect(await s.read(u)).toBeNull();
      expect(await s.reserve(u, "b", 10)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: null });
      // Another period's marker proves nothing about this one.
      expect(await s.restore(u, 1_000, periodEnd(2 * HOUR))).toEqual({ applied: false, tokensRemaining: 0 });
      expect(await s.restore(u, 1_000, end)).toEqual({ applied: true, tokensRemaining: 1_000 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 1_000, resetsAt: end });
      // Restored once: a second restore (another request racing) changes nothing.
      await s.reserve(u, "c", 100);
      expect(await s.restore(u, 1_000, end)).toEqual({ applied: false, tokensRemaining: 900 });
      // The period's reset stays a no-op: the marker still says this period was applied.
      expect(await s.reset(u, 1_000, end)).toEqual({ applied: false, tokensRemaining: 900 });
      // The restored budget carries its cap: raising to it adds nothing, a higher cap its difference.
      expect(await s.raiseCap(u, 1_000, end)).toEqual({ applied: false, tokensRemaining: 900 });
      expect(await s.raiseCap(u, 3_000, end)).toEqual({ applied: true, tokensRemaining: 2_900 });
    });

    it("raiseCap adds the difference of a higher cap to what is left, once, in the same period", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      await s.reset(u, 1_000, end);
      await s.reserve(u, "a", 270);
      await s.settle(u, "a", 270);
      // An upgrade mid-period: remaining + new cap - old cap, the period (and its expiry) unchanged.
      expect(await s.raiseCap(u, 5_000, end)).toEqual({ applied: true, tokensRemaining: 4_730 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 4_730, resetsAt: end });
      // Replays of the same change raise nothing more.
      expect(await s.raiseCap(u, 5_000, end)).toEqual({ applied: false, tokensRemaining: 4_730 });
      expect(await s.raiseCap(u, 5_000, new Date(end.getTime()))).toEqual({ applied: false, tokensRemaining: 4_730 });
      // A downgrade never lowers remaining, and going back up to a cap already granted this period adds nothing.
      expect(await s.raiseCap(u, 1_000, end)).toEqual({ applied: false, tokensRemaining: 4_730 });
      expect(await s.raiseCap(u, 5_000, end)).toEqual({ applied: false, tokensRemaining: 4_730 });
      // A still higher cap adds only its difference to the highest one granted.
      expect(await s.raiseCap(u, 6_000, end)).toEqual({ applied: true, tokensRemaining: 5_730 });
      // A hold taken before the raise settles against the raised budget.
      await s.reserve(u, "b", 1_000);
      expect(await s.settle(u, "b", 100)).toEqual({ applied: true, tokensRemaining: 5_630 });
    });

    it("raiseCap leaves alone a user with no budget, or a budget of another period", async () => {
      const s = store();
      const u = user();
      const end = periodEnd(HOUR);
      expect(await s.raiseCap(u, 5_000, end)).toEqual({ applied: false, tokensRemaining: 0 });
      expect(await s.read(u)).toBeNull();
      await s.reset(u, 1_000, end);
      // The renewal's refill decides the next period; a raise named for it does nothing to this one.
      expect(await s.raiseCap(u, 5_000, periodEnd(2 * HOUR))).toEqual({ applied: false, tokensRemaining: 1_000 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 1_000, resetsAt: end });
    });

    it("raiseCap starts from the cap of the latest reset: a new period's budget is raised from its own cap", async () => {
      const s = store();
      const u = user();
      const first = periodEnd(HOUR);
      await s.reset(u, 1_000, first);
      expect(await s.raiseCap(u, 5_000, first)).toMatchObject({ applied: true, tokensRemaining: 5_000 });
      const second = periodEnd(2 * HOUR);
      await s.reset(u, 1_000, second);
      expect(await s.raiseCap(u, 5_000, second)).toEqual({ applied: true, tokensRemaining: 5_000 });
      expect(await s.read(u)).toEqual({ tokensRemaining: 5_000, resetsAt: second });
    });

    it("raiseCap of a zero budget that is all used raises it to the difference", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      await s.reset(u, 1_000, end);
      await s.reserve(u, "a", 1_000);
      await s.settle(u, "a", 1_000);
      expect(await s.reserve(u, "b", 1)).toMatchObject({ ok: false });
      expect(await s.raiseCap(u, 5_000, end)).toEqual({ applied: true, tokensRemaining: 4_000 });
      expect(await s.reserve(u, "b", 1)).toMatchObject({ ok: true, granted: 1 });
    });

    it("raiseCap rejects malformed input before touching the budget", async () => {
      const s = store();
      const u = user();
      const end = periodEnd();
      await s.reset(u, 1_000, end);
      await expect(s.raiseCap("", 5_000, end)).rejects.toThrow(TypeError);
      await expect(s.raiseCap(u, -1, end)).rejects.toThrow(RangeError);
      await expect(s.raiseCap(u, 2.5, end)).rejects.toThrow(RangeError);
      await expect(s.raiseCap(u, 5_000, new Date(Number.NaN))).rejects.toThrow(TypeError);
      await expect(s.raiseCap(u, 5_000, end, { unrecordedCap: -3 })).rejects.toThrow(RangeError);
      expect(await s.read(u)).toEqual({ tokensRemaining: 1_000, resetsAt: end });
    });

    it("rejects malformed input before touching the budget", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, periodEnd());
      await expect(s.reserve("", "a", 1)).rejects.toThrow(TypeError);
      await expect(s.reserve(u, "", 1)).rejects.toThrow(TypeError);
      await expect(s.reserve(u, "a", -1)).rejects.toThrow(RangeError);
      await expect(s.reserve(u, "a", 1.5)).rejects.toThrow(RangeError);
      await expect(s.reserve(u, "a", Number.NaN)).rejects.toThrow(RangeError);
      await expect(s.settle(u, "a", -5)).rejects.toThrow(RangeError);
      await expect(s.settle(u, "", 5)).rejects.toThrow(TypeError);
      await expect(s.reset(u, 2 ** 60, periodEnd())).rejects.toThrow(RangeError);
      await expect(s.reset(u, 10, new Date(Number.NaN))).rejects.toThrow(TypeError);
      await expect(s.read("")).rejects.toThrow(TypeError);
      expect((await s.read(u))?.tokensRemaining).toBe(1_000);
    });
    it("forgets a user entirely (budget, marker, reservations), leaves others alone, and is idempotent", async () => {
      const s = store();
      const u = user();
      const other = user();
      const end = periodEnd();
      await s.reset(u, 1_000, end);
      await s.raiseCap(u, 2_000, end);
      await s.reset(other, 500, end);
      expect(await s.reserve(u, "r1", 100)).toMatchObject({ ok: true, granted: 100 });
      expect(await s.reserve(u, "r2", 100)).toMatchObject({ ok: true });
      await s.forget(u);
      expect(await s.read(u)).toBeNull();
      // The reservations are gone too: a settle finds nothing to settle, a reset starts the same period afresh.
      expect(await s.settle(u, "r1", 10)).toEqual({ applied: false, tokensRemaining: 0 });
      expect(await s.reset(u, 1_000, end)).toEqual({ applied: true, tokensRemaining: 1_000 });
      // The cap went with it: the afresh budget is raised from its own cap, not from the forgotten one.
      expect(await s.raiseCap(u, 2_000, end)).toEqual({ applied: true, tokensRemaining: 2_000 });
      expect(await s.read(other)).toEqual({ tokensRemaining: 500, resetsAt: end });
      await s.forget(u);
      await s.forget(u);
      expect(await s.read(u)).toBeNull();
      await expect(s.forget("")).rejects.toThrow(TypeError);
    });
  });
}

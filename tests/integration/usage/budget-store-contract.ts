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
      expect(await s.reserve(u, "a", 300)).toEqual({ ok: true, granted: 300, tokensRemaining: 700, packTokens: 0 });
      expect(await s.reserve(u, "b", 900)).toEqual({ ok: true, granted: 700, tokensRemaining: 0, packTokens: 0 });
      expect(await s.reserve(u, "c", 1)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: end });
      expect(await s.read(u)).toEqual({ tokensRemaining: 0, resetsAt: end });
    });

    it("returns the first grant to a retried reserve and holds nothing more", async () => {
      const s = store();
      const u = user();
      await s.reset(u, 1_000, periodEnd());
      expect(await s.reserve(u, "a", 400)).toEqual({ ok: true, granted: 400, tokensRemaining: 600, packTokens: 0 });
      expect(await s.reserve(u, "a", 400)).toEqual({ ok: true, granted: 400, tokensRemaining: 600, packTokens: 0 });
      expect(await s.reserve(u, "a", 50)).toEqual({ ok: true, granted: 400, tokensRemaining: 600, packTokens: 0 });
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
      expect(await s.reserve(u, "a", 400)).toEqual({ ok: true, granted: 400, tokensRemaining: 850, packTokens: 0 });
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

    describe("credit packs", () => {
      const inHours = (hours: number) => new Date(harness().now() + hours * HOUR);

      it("grants a pack once per id, whatever is replayed, and lists the live ones oldest first", async () => {
        const s = store();
        const u = user();
        const older = inHours(24);
        const newer = inHours(48);
        expect(await s.grantPack(u, "pack_newer", 500, newer)).toEqual({ applied: true, packTokens: 500 });
        expect(await s.grantPack(u, "pack_older", 300, older)).toEqual({ applied: true, packTokens: 800 });
        for (let i = 0; i < 3; i++) expect(await s.grantPack(u, "pack_older", 300, older)).toEqual({ applied: false, packTokens: 800 });
        expect(await s.readPacks(u)).toEqual([
          { packId: "pack_older", tokensRemaining: 300, expiresAt: older },
          { packId: "pack_newer", tokensRemaining: 500, expiresAt: newer },
        ]);
        expect(await s.read(u)).toBeNull();
      });

      it("spends the period's budget first, then the packs oldest first, and refuses only when both are empty", async () => {
        const s = store();
        const u = user();
        const end = periodEnd();
        await s.reset(u, 100, end);
        await s.grantPack(u, "b", 50, inHours(48));
        await s.grantPack(u, "a", 50, inHours(24));
        expect(await s.reserve(u, "r1", 120)).toEqual({ ok: true, granted: 120, tokensRemaining: 0, packTokens: 80 });
        expect(await s.readPacks(u)).toMatchObject([{ packId: "a", tokensRemaining: 30 }, { packId: "b", tokensRemaining: 50 }]);
        await s.settle(u, "r1", 120);
        expect(await s.reserve(u, "r2", 100)).toEqual({ ok: true, granted: 80, tokensRemaining: 0, packTokens: 0 });
        await s.settle(u, "r2", 80);
        expect(await s.reserve(u, "r3", 1)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: end });
        expect(await s.readPacks(u)).toEqual([]);
      });

      it("spends packs only while a period's budget exists", async () => {
        const s = store();
        const u = user();
        await s.grantPack(u, "p", 500, inHours(24));
        expect(await s.reserve(u, "r", 10)).toEqual({ ok: false, tokensRemaining: 0, resetsAt: null });
        expect(await s.readPacks(u)).toMatchObject([{ tokensRemaining: 500 }]);
      });

      it("settles back where the tokens came from: the packs last taken first, then the period; extra comes from the period, then packs", async () => {
        const s = store();
        const u = user();
        await s.reset(u, 100, periodEnd());
        await s.grantPack(u, "a", 50, inHours(24));
        await s.grantPack(u, "b", 50, inHours(48));
        await s.reserve(u, "r1", 160); // 100 from the period, 50 from a, 10 from b
        expect(await s.settle(u, "r1", 30)).toEqual({ applied: true, tokensRemaining: 70 }); // 130 back: b 10, a 50, period 70
        expect(await s.readPacks(u)).toMatchObject([{ packId: "a", tokensRemaining: 50 }, { packId: "b", tokensRemaining: 50 }]);
        expect(await s.settle(u, "r1", 0)).toEqual({ applied: false, tokensRemaining: 70 });

        await s.reserve(u, "r2", 10);
        expect(await s.settle(u, "r2", 150)).toEqual({ applied: true, tokensRemaining: 0 }); // 140 more: 60 period, 80 packs
        expect(await s.readPacks(u)).toMatchObject([{ packId: "b", tokensRemaining: 20 }]);
      });

      it("removes what is left of a revoked pack, once, before or after its grant, and never refunds into it", async () => {
        const s = store();
        const u = user();
        await s.reset(u, 10, periodEnd());
        await s.grantPack(u, "refunded", 100, inHours(24));
        await s.reserve(u, "r", 40); // 10 from the period, 30 from the pack
        expect(await s.revokePack(u, "refunded")).toEqual({ applied: true, tokensRemoved: 70, packTokens: 0 });
        expect(await s.revokePack(u, "refunded")).toEqual({ applied: false, tokensRemoved: 0, packTokens: 0 });
        expect(await s.settle(u, "r", 0)).toEqual({ applied: true, tokensRemaining: 10 }); // the pack's 30 stay gone
        expect(await s.readPacks(u)).toEqual([]);
        expect(await s.grantPack(u, "refunded", 100, inHours(24))).toEqual({ applied: false, packTokens: 0 });

        expect(await s.revokePack(u, "refund_first")).toEqual({ applied: true, tokensRemoved: 0, packTokens: 0 });
        expect(await s.grantPack(u, "refund_first", 100, inHours(24))).toEqual({ applied: false, packTokens: 0 });
        expect(await s.readPacks(u)).toEqual([]);
      });

      it("stops spending a pack when it expires", async () => {
        const s = store();
        const u = user();
        await s.reset(u, 0, periodEnd());
        await s.grantPack(u, "short", 100, new Date(harness().now() + 1_000));
        expect(await s.reserve(u, "r1", 10)).toMatchObject({ ok: true, granted: 10 });
        await harness().advance(1_100);
        expect(await s.readPacks(u)).toEqual([]);
        expect(await s.reserve(u, "r2", 10)).toMatchObject({ ok: false, tokensRemaining: 0 });
      });

      it("never overspends the budget plus a pack under 100 parallel answers", async () => {
        const s = store();
        const u = user();
        await s.reset(u, 1_000, periodEnd());
        await s.grantPack(u, "p", 500, inHours(24));
        const answers = await Promise.all(
          Array.from({ length: 100 }, async (_, i) => {
            const reservation = await s.reserve(u, `r${i}`, 20);
            if (!reservation.ok) return 0;
            // Each answer uses what it held, or a little less (the rest goes back).
            const used = reservation.granted - (i % 3);
            await s.settle(u, `r${i}`, Math.max(0, used));
            return Math.max(0, used);
          }),
        );
        const charged = answers.reduce((sum, n) => sum + n, 0);
        const left = ((await s.read(u))?.tokensRemaining ?? 0) + (await s.readPacks(u)).reduce((sum, p) => sum + p.tokensRemaining, 0);
        expect(charged).toBeLessThanOrEqual(1_500);
        expect(left).toBe(1_500 - charged);
        expect(answers.filter((n) => n > 0).length).toBeGreaterThan(70);
      });

      it("rejects malformed pack input and forgets packs with the user", async () => {
        const s = store();
        const u = user();
        await expect(s.grantPack(u, "bad id:1", 10, inHours(1))).rejects.toThrow(TypeError);
        await expect(s.grantPack(u, "p", -1, inHours(1))).rejects.toThrow(RangeError);
        await expect(s.grantPack(u, "p", 10, new Date(Number.NaN))).rejects.toThrow(TypeError);
        await expect(s.revokePack(u, "")).rejects.toThrow(TypeError);
        await s.grantPack(u, "p", 10, inHours(1));
        await s.forget(u);
        expect(await s.readPacks(u)).toEqual([]);
      });
    });
  });
}

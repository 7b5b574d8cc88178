// The behaviour every OverageStore must have, written once and run against each store (overage-store.test.ts).
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { OverageStore } from "@/server/usage";

export interface OverageStoreHarness {
  createStore(options?: { reservationTtlMs?: number }): OverageStore;
  now(): number;
  advance(ms: number): Promise<void>;
  userPrefix: string;
}

const HOUR = 60 * 60 * 1000;

export function describeOverageStoreContract(name: string, harness: () => OverageStoreHarness) {
  describe(`${name}: overage store contract`, () => {
    const user = () => `${harness().userPrefix}${randomUUID()}`;
    const periodEnd = (fromNowMs = HOUR) => new Date(Math.ceil((harness().now() + fromNowMs) / 1000) * 1000);

    it("holds min(upperBound, cap - used) and refuses once the cap is reached, or when the cap is 0", async () => {
      const s = harness().createStore();
      const u = user();
      const end = periodEnd();
      expect(await s.read(u, end)).toBe(0);
      expect(await s.reserve(u, "r1", 600, 1_000, end)).toEqual({ ok: true, granted: 600, overageUsed: 600 });
      expect(await s.reserve(u, "r2", 600, 1_000, end)).toEqual({ ok: true, granted: 400, overageUsed: 1_000 });
      expect(await s.reserve(u, "r3", 1, 1_000, end)).toEqual({ ok: false, overageUsed: 1_000 });
      expect(await s.reserve(user(), "r1", 10, 0, end)).toEqual({ ok: false, overageUsed: 0 });
    });

    it("returns the first grant to a retried reserve and holds nothing more", async () => {
      const s = harness().createStore();
      const u = user();
      const end = periodEnd();
      const first = await s.reserve(u, "r1", 300, 1_000, end);
      expect(await s.reserve(u, "r1", 300, 1_000, end)).toEqual(first);
      expect(await s.read(u, end)).toBe(300);
    });

    it("charges min(actual, granted), frees the rest, and settles once", async () => {
      const s = harness().createStore();
      const u = user();
      const end = periodEnd();
      await s.reserve(u, "r1", 500, 1_000, end);
      expect(await s.settle(u, "r1", end, 120)).toEqual({ applied: true, tokensCharged: 120 });
      expect(await s.read(u, end)).toBe(120);
      expect(await s.settle(u, "r1", end, 400)).toEqual({ applied: false, tokensCharged: 120 });
      expect(await s.read(u, end)).toBe(120);
      // An answer that overran its hold is billed for the hold only: the cap holds.
      await s.reserve(u, "r2", 880, 1_000, end);
      expect(await s.settle(u, "r2", end, 5_000)).toEqual({ applied: true, tokensCharged: 880 });
      expect(await s.read(u, end)).toBe(1_000);
      expect(await s.settle(u, "never-reserved", end, 10)).toEqual({ applied: false, tokensCharged: 0 });
    });

    it("counts each period apart, and a lowered cap refuses what it no longer covers", async () => {
      const s = harness().createStore();
      const u = user();
      const end = periodEnd();
      const next = periodEnd(2 * HOUR);
      await s.reserve(u, "r1", 700, 1_000, end);
      await s.settle(u, "r1", end, 700);
      expect(await s.reserve(u, "r2", 100, 500, end)).toEqual({ ok: false, overageUsed: 700 });
      expect(await s.reserve(u, "r3", 100, 500, next)).toEqual({ ok: true, granted: 100, overageUsed: 100 });
      expect(await s.read(u, end)).toBe(700);
      expect(await s.read(u, next)).toBe(100);
    });

    it("refuses a period that has already ended", async () => {
      const s = harness().createStore();
      expect(await s.reserve(user(), "r1", 100, 1_000, new Date(harness().now() - 1_000))).toMatchObject({ ok: false });
    });

    it("keeps an unsettled hold charged once its reservation expired; a late settle changes nothing", async () => {
      const s = harness().createStore({ reservationTtlMs: 100 });
      const u = user();
      const end = periodEnd();
      await s.reserve(u, "r1", 400, 1_000, end);
      await harness().advance(250);
      expect(await s.settle(u, "r1", end, 0)).toEqual({ applied: false, tokensCharged: 0 });
      expect(await s.read(u, end)).toBe(400);
    });

    it("never lets 100 parallel answers past the cap, even when each overruns its hold", async () => {
      const s = harness().createStore();
      const u = user();
      const end = periodEnd();
      const cap = 10_000;
      const answers = Array.from({ length: 100 }, async (_, i) => {
        const held = await s.reserve(u, `req-${i}`, 300 + (i % 7) * 100, cap, end);
        if (!held.ok) return 0;
        // Half the answers use less than held, half overrun it.
        const settled = await s.settle(u, `req-${i}`, end, i % 2 === 0 ? Math.floor(held.granted / 2) : held.granted * 3);
        return settled.tokensCharged;
      });
      const charged = await Promise.all(answers);
      const total = charged.reduce((sum, tokens) => sum + tokens, 0);
      expect(total).toBeLessThanOrEqual(cap);
      expect(await s.read(u, end)).toBe(total);
      // What the halved answers freed went back to the cap: the ledger filled it, not a fraction of it.
      expect(charged.filter((tokens) => tokens > 0).length).toBeGreaterThan(10);
    });

    it("refuses bad input the same way as the budget store", async () => {
      const s = harness().createStore();
      const end = periodEnd();
      await expect(s.reserve("", "r", 1, 1, end)).rejects.toThrow(TypeError);
      await expect(s.reserve(user(), "r", -1, 1, end)).rejects.toThrow(RangeError);
      await expect(s.reserve(user(), "r", 1, 1.5, end)).rejects.toThrow(RangeError);
      await expect(s.reserve(user(), "r", 1, 1, new Date(Number.NaN))).rejects.toThrow(TypeError);
      await expect(s.settle(user(), "r", end, Number.NaN)).rejects.toThrow(RangeError);
      await expect(s.settle(user(), "", end, 1)).rejects.toThrow(TypeError);
      await expect(s.read("", end)).rejects.toThrow(TypeError);
    });
  });
}

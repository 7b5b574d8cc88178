// The throttle counter store's contract, run against the in-process store (unit) and Redis (integration).
import { describe, expect, it } from "vitest";
import type { ThrottleCounterStore } from "@/server/auth/throttle";

export interface CounterStoreFixture {
  store: ThrottleCounterStore;
  advance(ms: number): Promise<void>;
  /** Keys are made unique under this prefix. */
  prefix: string;
}

export function describeCounterStoreContract(name: string, setup: () => CounterStoreFixture): void {
  describe(`${name}: throttle counter contract`, () => {
    let n = 0;
    const key = (fixture: CounterStoreFixture) => `throttle:test:${fixture.prefix}:${Date.now()}:${++n}`;

    it("counts hits in a window that starts at the first hit and ends on time", async () => {
      const fixture = setup();
      const k = key(fixture);
      expect(await fixture.store.hit(k, 1_000)).toMatchObject({ count: 1 });
      const second = await fixture.store.hit(k, 1_000);
      expect(second.count).toBe(2);
      expect(second.resetInMs).toBeGreaterThan(0);
      expect(second.resetInMs).toBeLessThanOrEqual(1_000);
      await fixture.advance(1_100);
      expect(await fixture.store.hit(k, 1_000)).toMatchObject({ count: 1 });
    });

    it("counts parallel hits exactly", async () => {
      const fixture = setup();
      const k = key(fixture);
      const counts = await Promise.all(Array.from({ length: 50 }, () => fixture.store.hit(k, 60_000)));
      expect(counts.map((state) => state.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it("release gives one back (never below zero) and clear forgets the key", async () => {
      const fixture = setup();
      const k = key(fixture);
      await fixture.store.hit(k, 60_000);
      await fixture.store.hit(k, 60_000);
      await fixture.store.release(k);
      expect((await fixture.store.hit(k, 60_000)).count).toBe(2);
      await fixture.store.clear(k);
      await fixture.store.release(k);
      expect((await fixture.store.hit(k, 60_000)).count).toBe(1);
    });
  });
}

import { describe, expect, it } from "vitest";
import { createMemoryBudgetStore } from "@/server/usage";
import { describeBudgetStoreContract } from "./budget-store-contract";

let clock = Date.parse("2031-03-01T00:00:00Z");

describeBudgetStoreContract("memory store", () => ({
  createStore: (options) => createMemoryBudgetStore({ now: () => clock, ...options }),
  now: () => clock,
  advance: async (ms) => {
    clock += ms;
  },
  userPrefix: "memory-",
}));

describe("memory store", () => {
  it("keeps separate stores apart", async () => {
    const end = new Date(clock + 60_000);
    const a = createMemoryBudgetStore({ now: () => clock });
    const b = createMemoryBudgetStore({ now: () => clock });
    await a.reset("u", 100, end);
    expect(await b.read("u")).toBeNull();
  });

  it("forgets expired reservations across a long run (the sweep bounds memory, not semantics)", async () => {
    let now = clock;
    const store = createMemoryBudgetStore({ now: () => now, reservationTtlMs: 1_000 });
    await store.reset("u", 1_000_000, new Date(now + 24 * 60 * 60 * 1000));
    for (let i = 0; i < 2_000; i += 1) {
      await store.reserve("u", `r${i}`, 10);
      now += 10;
    }
    // Every hold stays charged even though most reservations have been swept.
    expect((await store.read("u"))?.tokensRemaining).toBe(1_000_000 - 20_000);
    expect(await store.settle("u", "r0", 0)).toEqual({ applied: false, tokensRemaining: 980_000 });
    expect(await store.settle("u", "r1999", 0)).toEqual({ applied: true, tokensRemaining: 980_010 });
  });
});

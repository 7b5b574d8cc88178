import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createMemoryBudgetStore } from "@/server/usage";
import { describeBudgetStoreContract } from "./budget-store-contract";

let clock = Date.parse("2031-03-01T00:00:00Z");
const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-budgets-"));
let files = 0;
const newFile = () => path.join(filesDir, `budgets-${++files}.json`);
afterAll(() => fs.rmSync(filesDir, { recursive: true, force: true }));

describeBudgetStoreContract("memory store", () => ({
  createStore: (options) => createMemoryBudgetStore({ now: () => clock, ...options }),
  now: () => clock,
  advance: async (ms) => {
    clock += ms;
  },
  userPrefix: "memory-",
}));

describeBudgetStoreContract("memory store kept in a file", () => ({
  createStore: (options) => createMemoryBudgetStore({ now: () => clock, file: newFile(), ...options }),
  now: () => clock,
  advance: async (ms) => {
    clock += ms;
  },
  userPrefix: "memory-file-",
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

describe("memory store kept in a file", () => {
  const hour = 60 * 60 * 1000;

  it("finds every budget where it was left after a restart, and still knows each period was reset", async () => {
    const file = newFile();
    const end = new Date(clock + hour);
    const before = createMemoryBudgetStore({ now: () => clock, file });
    await before.reset("a", 1_000, end);
    await before.reset("b", 500, end);
    await before.reserve("a", "r1", 300);
    await before.settle("a", "r1", 120);
    await before.reserve("b", "r2", 200); // cut off by the restart: the hold stays charged

    const after = createMemoryBudgetStore({ now: () => clock, file });
    expect(await after.read("a")).toEqual({ tokensRemaining: 880, resetsAt: end });
    expect(await after.read("b")).toEqual({ tokensRemaining: 300, resetsAt: end });
    expect(await after.reset("a", 1_000, end)).toEqual({ applied: false, tokensRemaining: 880 });
    expect(await after.settle("b", "r2", 0)).toEqual({ applied: false, tokensRemaining: 300 });
  });

  it("keeps packs (what is left, revoked markers) across a restart and after the period's budget is gone", async () => {
    const file = newFile();
    const end = new Date(clock + hour);
    const packEnd = new Date(clock + 24 * hour);
    const before = createMemoryBudgetStore({ now: () => clock, file });
    await before.reset("p", 10, end);
    await before.grantPack("p", "kept", 100, packEnd);
    await before.grantPack("p", "refunded", 100, packEnd);
    await before.revokePack("p", "refunded");
    await before.reserve("p", "r", 40);
    await before.settle("p", "r", 40);

    const after = createMemoryBudgetStore({ now: () => clock, file });
    expect(await after.readPacks("p")).toEqual([{ packId: "kept", tokensRemaining: 70, expiresAt: packEnd }]);
    expect(await after.grantPack("p", "refunded", 100, packEnd)).toEqual({ applied: false, packTokens: 70 });
    expect(await after.grantPack("p", "kept", 100, packEnd)).toEqual({ applied: false, packTokens: 70 });
  });

  it("keeps each budget's cap across a restart, and reads a file from before caps (no capTokens)", async () => {
    const file = newFile();
    const end = new Date(clock + hour);
    const before = createMemoryBudgetStore({ now: () => clock, file });
    await before.reset("a", 1_000, end);
    await before.raiseCap("a", 5_000, end);
    const after = createMemoryBudgetStore({ now: () => clock, file });
    expect(await after.raiseCap("a", 5_000, end)).toEqual({ applied: false, tokensRemaining: 5_000 });

    const older = newFile();
    fs.writeFileSync(older, JSON.stringify({ version: 1, budgets: { b: { tokensRemaining: 700, periodEndMs: end.getTime() } } }));
    const upgraded = createMemoryBudgetStore({ now: () => clock, file: older });
    expect(await upgraded.raiseCap("b", 5_000, end, { unrecordedCap: 1_000 })).toEqual({ applied: true, tokensRemaining: 4_700 });
    expect(await upgraded.raiseCap("b", 5_000, end, { unrecordedCap: 1_000 })).toEqual({ applied: false, tokensRemaining: 4_700 });
  });

  it("does not bring back a budget whose period ended while it was stopped", async () => {
    const file = newFile();
    let now = clock;
    const before = createMemoryBudgetStore({ now: () => now, file });
    await before.reset("short", 100, new Date(now + 1_000));
    await before.reset("long", 100, new Date(now + hour));
    now += 2_000;
    const after = createMemoryBudgetStore({ now: () => now, file });
    expect(await after.read("short")).toBeNull();
    expect(await after.read("long")).toMatchObject({ tokensRemaining: 100 });
    await after.reserve("long", "r", 1);
    expect(Object.keys(JSON.parse(fs.readFileSync(file, "utf8")).budgets)).toEqual(["long"]);
  });

  it("leaves a file another live process owns alone and keeps its own budgets in memory", async () => {
    const file = newFile();
    fs.writeFileSync(file, JSON.stringify({ version: 1, budgets: { owner: { tokensRemaining: 7, periodEndMs: clock + hour } } }));
    fs.writeFileSync(`${file}.lock`, String(process.ppid)); // a live process that is not this one
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const store = createMemoryBudgetStore({ now: () => clock, file });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`belongs to process ${process.ppid}`));
      expect(await store.read("owner")).toBeNull();
      await store.reset("guest", 50, new Date(clock + hour));
      expect(await store.read("guest")).toMatchObject({ tokensRemaining: 50 });
      expect(JSON.parse(fs.readFileSync(file, "utf8")).budgets).toEqual({ owner: { tokensRemaining: 7, periodEndMs: clock + hour } });
    } finally {
      warn.mockRestore();
      fs.rmSync(`${file}.lock`, { force: true });
    }
  });

  it("moves an unreadable file aside instead of overwriting it, and starts with no budgets", async () => {
    const file = newFile();
    fs.writeFileSync(file, '{"version":1,"budgets":{"a":{"tokensRemaining":"lots"');
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const store = createMemoryBudgetStore({ now: () => clock, file });
      expect(await store.read("a")).toBeNull();
      const aside = fs.readdirSync(path.dirname(file)).filter((name) => name.startsWith(`${path.basename(file)}.unreadable-`));
      expect(aside).toHaveLength(1);
      expect(fs.readFileSync(path.join(path.dirname(file), aside[0] ?? ""), "utf8")).toContain('"lots"');
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("could not be read"));
    } finally {
      warn.mockRestore();
    }
  });
});

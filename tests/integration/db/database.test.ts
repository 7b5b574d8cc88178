import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { executePrepared, openDatabase } from "@/db/client";
import { getDb } from "@/db/index";
import { stripeEvents, users } from "@/db/schema";

describe("database", () => {
  it("starts migrated and empty, with the billing columns and the event log", async () => {
    const db = await getDb();
    expect(await db.select().from(users)).toEqual([]);
    const [created] = await db.insert(users).values({ email: "a@example.com" }).returning();
    expect(created).toMatchObject({ email: "a@example.com", planActive: false, stripeCustomerId: null, planExpires: null });
    await db.insert(stripeEvents).values({ id: "evt_1", type: "invoice.paid" });
    const [event] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, "evt_1"));
    expect(event?.receivedAt).toBeInstanceOf(Date);
  });

  it("refuses a second user with the same Stripe customer", async () => {
    const db = await getDb();
    await db.insert(users).values({ email: "b@example.com", stripeCustomerId: "cus_same" });
    await expect(db.insert(users).values({ email: "c@example.com", stripeCustomerId: "cus_same" })).rejects.toThrow();
  });

  it("refuses to open an embedded database that another process has open, saying which and what to do", async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-db-")), "pglite");
    fs.writeFileSync(`${dataDir}.lock`, String(process.ppid)); // a live process that is not this one
    try {
      await expect(openDatabase({ kind: "pglite", dataDir })).rejects.toThrow(
        `The embedded database in ${dataDir} is open in another process (pid ${process.ppid})`,
      );
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  });

  it("runs a raw statement with its parameters and returns its rows, in a transaction too", async () => {
    const db = await getDb();
    expect(await executePrepared<{ n: number; word: string }>(db, sql`select ${41}::int + 1 as n, ${"prepared"}::text as word`)).toEqual([{ n: 42, word: "prepared" }]);
    expect(await executePrepared(db, sql`select 1 as n where false`)).toEqual([]);
    const inTransaction = await db.transaction((tx) => executePrepared<{ n: number }>(tx, sql`select ${7}::int as n`));
    expect(inTransaction).toEqual([{ n: 7 }]);
  });

  // Prepared statements are per connection: one connection, then count what Postgres holds for it.
  const preparedOnOneConnection = async (url: string) => {
    const database = await openDatabase({ kind: "postgres", url, maxConnections: 1 });
    try {
      await executePrepared(database.db, sql`select ${1}::int as n`);
      const [held] = await executePrepared<{ count: number }>(database.db, sql`select count(*)::int as count from pg_prepared_statements`);
      return held?.count;
    } finally {
      await database.close();
    }
  };

  it.runIf(process.env.DATABASE_URL)("prepares the statement on Postgres, and not when DATABASE_URL says prepare=false (a pooler)", async () => {
    const url = process.env.DATABASE_URL ?? "";
    expect(await preparedOnOneConnection(url)).toBeGreaterThanOrEqual(1);
    const unprepared = new URL(url);
    unprepared.searchParams.set("prepare", "false");
    expect(await preparedOnOneConnection(unprepared.toString())).toBe(0);
  });
});

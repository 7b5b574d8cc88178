// `npm run db:migrate` runs on every deploy, possibly on several instances at once: concurrent runs on one empty
// database must all succeed, apply each migration exactly once, and a later run must find nothing to do.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, describe, expect, inject, it } from "vitest";
import { migratePostgresUnderLock } from "@/db/migrate";
import { withDatabase } from "../../setup/integration-global";

const template = inject("databaseTemplate");
const journal = JSON.parse(fs.readFileSync(path.join("db", "migrations", "meta", "_journal.json"), "utf8")) as { entries: unknown[] };

describe.runIf(template.kind === "postgres")("db:migrate on Postgres", () => {
  const adminUrl = template.kind === "postgres" ? template.adminUrl : "";
  const name = `hourglass_migrate_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  // Collected (not run) on the embedded default too, where there is no admin URL to build one from.
  const url = adminUrl ? withDatabase(adminUrl, name) : "";
  const admin = template.kind === "postgres" ? postgres(adminUrl, { max: 1, onnotice: () => {} }) : null;

  afterAll(async () => {
    await admin?.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin?.end();
  });

  it("applies every migration once when five runs start together on an empty database", async () => {
    await admin?.unsafe(`CREATE DATABASE "${name}"`);
    const results = await Promise.all(Array.from({ length: 5 }, () => migratePostgresUnderLock(url)));
    expect(results.reduce((sum, result) => sum + result.applied, 0)).toBe(journal.entries.length);
    expect(results.filter((result) => result.applied > 0)).toHaveLength(1);
    for (const result of results) expect(result.total).toBe(journal.entries.length);

    const check = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await check`select hash from drizzle.__drizzle_migrations`;
      expect(new Set(rows.map((row) => row.hash as string)).size).toBe(journal.entries.length);
      const [users] = await check`select to_regclass('public.users') as t`;
      expect(users?.t).toBe("users");
      // The lock is released: nothing is left holding it.
      const held = await check`select count(*)::int as n from pg_locks where locktype = 'advisory'`;
      expect(held[0]?.n).toBe(0);
    } finally {
      await check.end();
    }
  });

  it("is a no-op when run again through `npm run db:migrate`", async () => {
    const { stdout } = await promisify(execFile)("npx", ["tsx", "scripts/db-migrate.ts"], {
      env: { ...process.env, DATABASE_URL: url },
    });
    expect(stdout).toContain(`Migrations: 0 applied, ${journal.entries.length} in DATABASE_URL`);
  });
});

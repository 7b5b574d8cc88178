// Applies the committed migrations to a Postgres database under a session-level advisory lock, so every deploy may
// run `npm run db:migrate` at once (two instances, a retried release step): one applies, the others wait for it and
// then find nothing left to do. Without the lock, two migrators read the same last migration and both run it.
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { migrationsFolder } from "./client";
import * as schema from "./schema";

/** The advisory lock key of Hourglass migrations (any constant bigint; this one spells "hourglas" in hex-ish). */
export const MIGRATION_LOCK_KEY = 0x686f7572676c6173n;

export interface MigrationResult {
  /** Migrations this run applied (0 when another run had already applied them). */
  applied: number;
  /** Migrations recorded in the database afterwards. */
  total: number;
  /** Whether this run found the lock held and waited for it. */
  waited: boolean;
}

export async function migratePostgresUnderLock(url: string, options: { folder?: string } = {}): Promise<MigrationResult> {
  // One connection: the advisory lock belongs to the session that took it, so every statement must use that session.
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzle({ client, schema });
  const key = MIGRATION_LOCK_KEY.toString();
  try {
    const [attempt] = await client<{ locked: boolean }[]>`select pg_try_advisory_lock(${key}::bigint) as locked`;
    const waited = !attempt?.locked;
    if (waited) await client`select pg_advisory_lock(${key}::bigint)`;
    try {
      const before = await countApplied(client);
      await migrate(db, { migrationsFolder: options.folder ?? migrationsFolder });
      const total = await countApplied(client);
      return { applied: total - before, total, waited };
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${key}::bigint)`);
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

async function countApplied(client: postgres.Sql): Promise<number> {
  // Two statements: a query naming a missing table fails at planning, whatever a CASE around it says.
  const [table] = await client<{ exists: boolean }[]>`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`;
  if (!table?.exists) return 0;
  const [row] = await client<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return row?.n ?? 0;
}

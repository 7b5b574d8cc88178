// The one database module: postgres-js when a URL is given, otherwise embedded PGlite in a data directory
// that is created and migrated on first open. A PGlite directory may be opened by one process only, so the
// embedded database takes a lock file and refuses a second opener with a message that says what to do.
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { acquireFileLock } from "@/lib/file-lock";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** The handle a transaction callback receives; queries take `Db | Tx` so they compose inside transactions. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: "postgres"; url: string; migrate?: boolean; maxConnections?: number }
  | { kind: "pglite"; dataDir?: string; migrate?: boolean };

export const migrationsFolder = path.join(process.cwd(), "db", "migrations");

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.kind === "postgres") {
    const client = postgres(options.url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      // A connection that dies mid-query surfaces as an error to the caller (and a 5xx to Stripe), not a hang.
      connect_timeout: 10,
    });
    const db = drizzlePostgres({ client, schema });
    if (options.migrate) await migratePostgres(db, { migrationsFolder });
    return { db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
  }

  const release = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  try {
    const client = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
    const db = drizzlePglite({ client, schema });
    if (options.migrate ?? true) await migratePglite(db, { migrationsFolder });
    return {
      db,
      kind: "pglite",
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

const dialect = new PgDialect();

/** The postgres-js client under a top-level Postgres database (a transaction's handle has none). */
function postgresClientOf(db: Executor): postgres.Sql | null {
  const client = (db as { $client?: unknown }).$client;
  return typeof client === "function" && "unsafe" in client && "options" in client ? (client as postgres.Sql) : null;
}

/**
 * Runs a raw statement and returns its rows. On Postgres it is a prepared statement, parsed and planned once per
 * connection and then only bound and run: Drizzle sends every statement unprepared, which for a statement with
 * several CTEs costs more than running it (the chat's one-statement write: about 2.4 ms unprepared, 1.0 ms
 * prepared). A pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21, or without
 * `max_prepared_statements`) is told so by `?prepare=false` in DATABASE_URL, which postgres-js reads; this follows it.
 * PGlite, and a transaction's handle, run it through Drizzle as usual.
 */
export async function executePrepared<T>(db: Executor, query: SQL): Promise<T[]> {
  const client = postgresClientOf(db);
  if (!client) {
    const result: unknown = await db.execute(query);
    return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
  }
  const { sql, params } = dialect.sqlToQuery(query);
  return (await client.unsafe(sql, params as postgres.ParameterOrJSON<never>[], { prepare: client.options.prepare })) as unknown as T[];
}

function lockDataDir(dataDir: string): () => void {
  const lock = acquireFileLock(`${path.resolve(dataDir)}.lock`);
  if (lock.acquired) return lock.release;
  throw new Error(
    `The embedded database in ${dataDir} is open in another process (pid ${lock.heldBy}). ` +
      "Stop that process (an earlier `npm run dev` or `npm start`), or set DATABASE_URL to use a Postgres server.",
  );
}

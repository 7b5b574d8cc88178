// The process-wide database, opened once from the environment: DATABASE_URL -> Postgres, otherwise PGlite in
// DATA_DIR/pglite. Kept on globalThis so dev-server reloads reuse the one PGlite handle instead of reopening it.
import path from "node:path";
import { env } from "@/lib/env";
import { openDatabase, type Database, type Db } from "./client";

const holder = globalThis as typeof globalThis & { __hourglassDatabase?: Promise<Database> };

export function getDatabase(): Promise<Database> {
  holder.__hourglassDatabase ??= openDatabase(
    env.DATABASE_URL
      ? { kind: "postgres", url: env.DATABASE_URL }
      : { kind: "pglite", dataDir: path.join(env.DATA_DIR, "pglite"), migrate: true },
  ).catch((error: unknown) => {
    holder.__hourglassDatabase = undefined;
    throw error;
  });
  return holder.__hourglassDatabase;
}

export async function getDb(): Promise<Db> {
  return (await getDatabase()).db;
}

export async function closeDatabase(): Promise<void> {
  const pending = holder.__hourglassDatabase;
  holder.__hourglassDatabase = undefined;
  if (pending) await (await pending).close();
}

export type { Db, Executor, Tx } from "./client";
export * as schema from "./schema";

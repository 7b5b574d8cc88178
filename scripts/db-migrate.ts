// `npm run db:migrate`: applies the committed migrations to DATABASE_URL's Postgres under an advisory lock (safe on
// every deploy, and when several run at once: see db/migrate.ts), or to the embedded PGlite directory (which must
// not be open in a running dev server at the same time).
import path from "node:path";
import { openDatabase } from "../db/client";
import { migratePostgresUnderLock } from "../db/migrate";
import { env } from "../lib/env";

if (env.DATABASE_URL) {
  const result = await migratePostgresUnderLock(env.DATABASE_URL);
  const waited = result.waited ? " (waited for another migration run first)" : "";
  console.log(`Migrations: ${result.applied} applied, ${result.total} in DATABASE_URL${waited}.`);
} else {
  const database = await openDatabase({ kind: "pglite", dataDir: path.join(env.DATA_DIR, "pglite"), migrate: true });
  await database.close();
  console.log(`Migrations applied to ${env.DATA_DIR}/pglite.`);
}

// `npm run db:migrate`: applies the committed migrations to DATABASE_URL's Postgres, or to the embedded PGlite
// directory (which must not be open in a running dev server at the same time).
import path from "node:path";
import { openDatabase } from "../db/client";
import { env } from "../lib/env";

const database = await openDatabase(
  env.DATABASE_URL
    ? { kind: "postgres", url: env.DATABASE_URL, migrate: true, maxConnections: 1 }
    : { kind: "pglite", dataDir: path.join(env.DATA_DIR, "pglite"), migrate: true },
);
await database.close();
console.log(`Migrations applied to ${env.DATABASE_URL ? "DATABASE_URL" : `${env.DATA_DIR}/pglite`}.`);

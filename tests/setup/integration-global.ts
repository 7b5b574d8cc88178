// Prepares one migrated database template per test run, so each test file starts on a fresh copy cheaply:
// a Postgres template database when DATABASE_URL is set, otherwise a migrated PGlite data directory.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../db/client";

declare module "vitest" {
  export interface ProvidedContext {
    databaseTemplate: { kind: "postgres"; adminUrl: string; template: string } | { kind: "pglite"; dir: string };
  }
}

export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const template = `hourglass_template_${process.pid}_${Date.now()}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${template}"`);
    const templateUrl = withDatabase(url, template);
    const database = await openDatabase({ kind: "postgres", url: templateUrl, migrate: true, maxConnections: 1 });
    await database.close();
    project.provide("databaseTemplate", { kind: "postgres", adminUrl: url, template });
    return async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      await admin.end();
    };
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-pglite-template-"));
  const database = await openDatabase({ kind: "pglite", dataDir: path.join(dir, "pglite"), migrate: true });
  await database.close();
  project.provide("databaseTemplate", { kind: "pglite", dir });
  return () => fs.rmSync(dir, { recursive: true, force: true });
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

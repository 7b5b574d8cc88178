// Gives each integration test file its own fresh, migrated database before any app module reads the
// environment: a copy of the run's template (Postgres database or PGlite directory), removed afterwards.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, inject } from "vitest";
import { withDatabase } from "./integration-global";

const template = inject("databaseTemplate");

// The suites buy Starter as customers who pay from the first day. Trials (Starter's 7 days) are tested where a file
// turns them back on before loading the app (tests/integration/billing/yearly-and-trials.test.ts).
process.env.STRIPE_NO_TRIALS = "1";

if (template.kind === "postgres") {
  const name = `hourglass_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(template.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template.template}"`);
  process.env.DATABASE_URL = withDatabase(template.adminUrl, name);
  afterAll(async () => {
    const { closeDatabase } = await import("../../db/index");
    await closeDatabase();
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });
} else {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-test-"));
  fs.cpSync(template.dir, dataDir, { recursive: true });
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
  afterAll(async () => {
    const { closeDatabase } = await import("../../db/index");
    await closeDatabase();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
}

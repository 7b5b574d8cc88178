// `npm run db:check`: fails when db/schema.ts has changes without their migration. Runs `drizzle-kit check` (the
// migration history is consistent) and then `drizzle-kit generate` against a temporary copy of db/migrations: any
// file it writes there is a migration someone forgot to generate, printed with the command that creates it.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = process.cwd();
const committed = path.join(root, "db", "migrations");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-db-check-"));

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => fs.statSync(path.join(dir, name)).isFile()).sort();
}

function drizzleKit(args: string[]): string {
  // No terminal: drizzle-kit never waits on an interactive rename prompt here (the timeout catches one that would).
  return execFileSync("npx", ["drizzle-kit", ...args], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
}

let failed = false;
try {
  const out = path.join(scratch, "migrations");
  fs.cpSync(committed, out, { recursive: true });
  const config = path.join(scratch, "drizzle.config.json");
  fs.writeFileSync(config, JSON.stringify({ dialect: "postgresql", schema: "./db/schema.ts", out: path.relative(root, out), strict: true }));

  process.stdout.write(drizzleKit(["check", "--config", config]));
  const before = listFiles(out);
  process.stdout.write(drizzleKit(["generate", "--config", config, "--name", "db_check"]));
  const added = listFiles(out).filter((name) => !before.includes(name) && name.endsWith(".sql"));
  if (added.length > 0) {
    failed = true;
    console.error("\ndb/schema.ts has changes without a migration. Run `npx drizzle-kit generate --name <what>` and commit it.");
    for (const name of added) console.error(`\n--- the missing migration (${name}):\n${fs.readFileSync(path.join(out, name), "utf8")}`);
  } else {
    console.log("db:check: the migrations match db/schema.ts.");
  }
} catch (error) {
  failed = true;
  const output = error as { stdout?: string; stderr?: string; message?: string };
  console.error(output.stdout ?? "", output.stderr ?? "", output.stdout || output.stderr ? "" : output.message);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

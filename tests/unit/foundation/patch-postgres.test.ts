// The install-time guard for postgres-js (scripts/patch-postgres.mjs): present in every build of the installed
// driver, applied once, and loud when the driver is not what it was written for.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const script = path.resolve("scripts/patch-postgres.mjs");
const MARK = "hourglass: porsager/postgres#1208";
const runIn = (cwd: string) => spawnSync(process.execPath, [script], { cwd, encoding: "utf8" });

function fakeDriver(version: string, connection: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-patch-"));
  const root = path.join(dir, "node_modules", "postgres");
  fs.mkdirSync(path.join(root, "src"), { recursive: true });
  fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ version }));
  fs.writeFileSync(path.join(root, "src", "connection.js"), connection);
  return dir;
}

describe("patch-postgres", () => {
  it("has guarded every build of the installed driver, and a second run changes nothing", () => {
    const root = path.resolve("node_modules/postgres");
    const builds = ["src", "cjs/src", "cf/src"].map((dir) => path.join(root, dir, "connection.js")).filter((file) => fs.existsSync(file));
    expect(builds.length).toBeGreaterThan(0);
    const before = builds.map((file) => fs.readFileSync(file, "utf8"));
    for (const text of before) expect(text.split(MARK)).toHaveLength(3); // both edits, once each
    expect(runIn(path.resolve(".")).status).toBe(0);
    expect(builds.map((file) => fs.readFileSync(file, "utf8"))).toEqual(before);
  });

  it("fails the install with a pointer when the driver's code is not what the patch expects", () => {
    const dir = fakeDriver("3.5.0", "function nextWrite(fn) { return socket.write(chunk, fn) }\n");
    try {
      const result = runIn(dir);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("postgres 3.5.0 is not the version this patch was written for (3.4.9)");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

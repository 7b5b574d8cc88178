import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireFileLock } from "@/lib/file-lock";

const dirs: string[] = [];
function lockPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-lock-"));
  dirs.push(dir);
  return path.join(dir, "nested", "thing.lock");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("acquireFileLock", () => {
  it("takes a free lock, writing its pid, and removes it on release", () => {
    const file = lockPath();
    const lock = acquireFileLock(file);
    expect(lock.acquired).toBe(true);
    expect(fs.readFileSync(file, "utf8")).toBe(String(process.pid));
    if (lock.acquired) lock.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it("leaves a lock held by another live process alone and names that process", () => {
    const file = lockPath();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, String(process.ppid)); // the test runner's parent: alive, and not us
    expect(acquireFileLock(file)).toEqual({ acquired: false, heldBy: process.ppid });
    expect(fs.readFileSync(file, "utf8")).toBe(String(process.ppid));
  });

  it("takes over a lock left by a process that has exited, or one that holds no pid", () => {
    const file = lockPath();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const exited = spawnSync(process.execPath, ["-e", "process.pid"]).pid;
    fs.writeFileSync(file, String(exited));
    expect(acquireFileLock(file).acquired).toBe(true);
    expect(fs.readFileSync(file, "utf8")).toBe(String(process.pid));

    fs.writeFileSync(file, "not a pid");
    expect(acquireFileLock(file).acquired).toBe(true);
  });

  it("does not remove a lock that another process has taken since", () => {
    const file = lockPath();
    const lock = acquireFileLock(file);
    fs.writeFileSync(file, String(process.ppid));
    if (lock.acquired) lock.release();
    expect(fs.readFileSync(file, "utf8")).toBe(String(process.ppid));
  });
});

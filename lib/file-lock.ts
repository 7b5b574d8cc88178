// An exclusive lock kept as a file holding the owner's pid. A lock left behind by a process that has died is
// taken over, so a crashed dev server never blocks the next one.
import fs from "node:fs";
import path from "node:path";

export type FileLock = { acquired: true; release(): void } | { acquired: false; heldBy: number };

// Every lock this process holds, released by one exit hook.
const held = new Set<string>();
let exitHookInstalled = false;

export function acquireFileLock(lockFile: string): FileLock {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(fs.readFileSync(lockFile, "utf8"));
      if (holder !== process.pid && isProcessAlive(holder)) return { acquired: false, heldBy: holder };
      fs.rmSync(lockFile, { force: true });
    }
  }
  held.add(lockFile);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => held.forEach(removeIfOurs));
  }
  return {
    acquired: true,
    release() {
      held.delete(lockFile);
      removeIfOurs(lockFile);
    },
  };
}

function removeIfOurs(lockFile: string): void {
  try {
    if (fs.readFileSync(lockFile, "utf8") === String(process.pid)) fs.rmSync(lockFile, { force: true });
  } catch {
    // already gone
  }
}

/** Whether a process with this pid exists (one we may not signal counts). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

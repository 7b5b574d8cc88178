// Start-up of `npm run dev`: cold (.next/dev removed) against warm, to the first 200 on /.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { median, round } from "./stats";

export interface DevStartup {
  coldMs: number;
  warmMs: number;
  ratio: number;
}


/**
 * `npm run dev` as a user runs it (the Stripe sandbox and its setup, the bridge when REDIS_URL is set, then
 * `next dev`) to the first 200 on /: from a cold .next/dev, against the same command with the cache warm.
 */
export async function measureDevStartup(runs: number, log: (message: string) => void): Promise<DevStartup> {
  const { isProcessAlive } = await import("../lib/file-lock");
  // `next dev` writes its pid into .next/dev/lock while it runs; deleting .next/dev under it would break it.
  const lock = path.join(".next", "dev", "lock");
  if (fs.existsSync(lock)) {
    const pid = Number((JSON.parse(fs.readFileSync(lock, "utf8") || "{}") as { pid?: unknown }).pid);
    if (isProcessAlive(pid)) {
      throw new Error(`A \`next dev\` of this checkout is running (pid ${pid}): stop it, or pass --skip-dev.`);
    }
  }
  const cold: number[] = [];
  const warm: number[] = [];
  for (let r = 0; r < runs; r++) {
    fs.rmSync(".next/dev", { recursive: true, force: true });
    cold.push(await timeDevToFirst200());
    warm.push(await timeDevToFirst200());
    log(`dev start-up run ${r + 1}: cold ${round(cold.at(-1) ?? NaN, 0)} ms, warm ${round(warm.at(-1) ?? NaN, 0)} ms`);
  }
  return { coldMs: median(cold), warmMs: median(warm), ratio: median(cold) / median(warm) };
}

async function timeDevToFirst200(): Promise<number> {
  // Imported here: app-stack reads the environment, which the bench sets up before loading app modules.
  const { freePort } = await import("../scripts/app-stack");
  const [port, sandboxPort, bridgePort] = [await freePort(), await freePort(), await freePort()];
  const devDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-bench-dev-"));
  const started = performance.now();
  const child = spawn("npm", ["run", "dev"], {
    env: {
      ...process.env,
      DATABASE_URL: "", // the embedded PGlite, as on a fresh clone
      DATA_DIR: devDataDir,
      APP_URL: `http://127.0.0.1:${port}`,
      STRIPE_SANDBOX_PORT: String(sandboxPort),
      UPSTASH_BRIDGE_PORT: String(bridgePort),
      STRIPE_API_BASE: "",
      NODE_ENV: "development",
    },
    stdio: "ignore",
    detached: true,
  });
  try {
    for (;;) {
      if (performance.now() - started > 180_000) throw new Error("npm run dev: no 200 on / within 180 s");
      if (child.exitCode !== null) throw new Error(`npm run dev exited with ${child.exitCode} before answering`);
      const status = await fetch(`http://127.0.0.1:${port}/`).then((response) => response.status, () => 0);
      if (status === 200) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    if (child.pid) process.kill(-child.pid, "SIGTERM");
    await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(null)));
    fs.rmSync(devDataDir, { recursive: true, force: true });
  }
}


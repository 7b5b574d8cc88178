// Starts the production app the way the end-to-end suite and the bench need it: the local stand-ins on free
// ports, then `next start` (EMBEDDED_DEFAULTS=1, a random AUTH_SECRET per run) on a free port, waiting until it answers. Uses the build in
// .next (run `npm run build` first). Real Postgres and Redis are used when DATABASE_URL / REDIS_URL are set;
// otherwise PGlite in a fresh temporary DATA_DIR and the in-process budget store.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { openDatabase } from "../db/client";
import { env } from "../lib/env";
import { startLocalServices } from "./local-services";

export interface AppStack {
  baseUrl: string;
  stripeSandboxUrl: string | null;
  /** The local inbox (web page and Mailpit-style API) the app's email goes to; null when SMTP_URL is set. */
  mailInboxUrl: string | null;
  /** Everything the server printed, for failure reports. */
  logs(): string;
  /** The app's DATA_DIR for this run (PGlite unless DATABASE_URL is set, the budgets file), removed on stop. */
  dataDir: string;
  /** The server's process group id (`next start` and its children), e.g. to read its memory. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface AppStackOptions {
  /** Extra variables for the app process, e.g. CHAT_TOKEN_BUDGET or DEMO_MODEL_DELAY_MS. */
  appEnv?: Record<string, string>;
  retryBaseMs?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startAppStack(options: AppStackOptions = {}): Promise<AppStack> {
  if (!fs.existsSync(path.join(".next", "BUILD_ID"))) {
    throw new Error("No production build in .next: run `npm run build` first.");
  }
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const services = await startLocalServices({
    appUrl: baseUrl,
    stripeSandboxPort: 0,
    bridgePort: await freePort(),
    stateFile: null,
    retryBaseMs: options.retryBaseMs ?? 100,
    mailPorts: { smtp: 0, http: 0 },
  });
  if (env.DATABASE_URL) {
    // The app migrates only its embedded PGlite; a real Postgres (a fresh CI database) needs `db:migrate` first.
    try {
      await (await openDatabase({ kind: "postgres", url: env.DATABASE_URL, migrate: true, maxConnections: 1 })).close();
    } catch (error) {
      await services.close();
      throw error;
    }
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-stack-"));
  let output = "";
  const child: ChildProcess = spawn("npx", ["next", "start", "--port", String(port), "--hostname", "127.0.0.1"], {
    env: {
      ...process.env,
      ...services.env,
      DATA_DIR: dataDir,
      // A production server refuses a generated secret, even on the stand-ins: a random one per run.
      AUTH_SECRET: env.AUTH_SECRET ?? randomBytes(32).toString("base64url"),
      ...options.appEnv,
      APP_URL: baseUrl,
      EMBEDDED_DEFAULTS: "1",
      NODE_ENV: "production",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    await services.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitForHttp(`${baseUrl}/`, 60_000, () => child.exitCode !== null);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server output ---\n${output}`);
  }
  return { baseUrl, stripeSandboxUrl: services.stripeSandboxUrl, mailInboxUrl: services.mailInboxUrl, logs: () => output, dataDir, pid: child.pid, stop };
}

async function waitForHttp(url: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the server exited before answering ${url}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

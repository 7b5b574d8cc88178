// Starts the production app the way the end-to-end suites and the bench need it: the local stand-ins on free
// ports, then `next start` (or the standalone output's `node server.js`, as the Docker image runs it) with
// EMBEDDED_DEFAULTS=1 and a random AUTH_SECRET per run on a free port, waiting until it answers. Uses the build in
// .next (run `npm run build` first). Real Postgres and Redis are used when DATABASE_URL / REDIS_URL are set;
// otherwise PGlite in a fresh temporary DATA_DIR and the in-process budget store. The pieces (one server process,
// the standalone folder, the migration) are exported for suites that start several servers.
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
  /** `next start` (default), or `node .next/standalone/server.js` as the Dockerfile's image runs it. */
  server?: ServerKind;
}

export type ServerKind = "next-start" | "standalone";

/** One production server process (its whole process group). */
export interface ServerProcess {
  baseUrl: string;
  /** The process group id. */
  pid: number | undefined;
  /** Everything it printed so far. */
  logs(): string;
  /** Null while it runs. */
  exitCode(): number | null;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port ?? 0;
}

/**
 * `count` distinct free ports, all held open until every one is chosen: ports asked for one after the other (or
 * left to the OS while another is chosen but not yet bound) can come back the same, and two of a stack's servers
 * then meet on one port.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === "object" && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Makes .next/standalone runnable on its own, as the Dockerfile's image is: Next leaves the static files and the
 * public folder out of it (a CDN usually serves them), so they are copied in beside server.js. Returns its path.
 */
export function prepareStandalone(root = process.cwd()): string {
  const standalone = path.join(root, ".next", "standalone");
  const serverJs = path.join(standalone, "server.js");
  if (!fs.existsSync(serverJs)) throw new Error(`No ${serverJs}: \`npm run build\` writes it (output: "standalone" in next.config.ts).`);
  const staticDir = path.join(standalone, ".next", "static");
  fs.rmSync(staticDir, { recursive: true, force: true });
  fs.cpSync(path.join(root, ".next", "static"), staticDir, { recursive: true });
  const publicDir = path.join(standalone, "public");
  fs.rmSync(publicDir, { recursive: true, force: true });
  if (fs.existsSync(path.join(root, "public"))) fs.cpSync(path.join(root, "public"), publicDir, { recursive: true });
  return serverJs;
}

/** Applies the migrations to a real Postgres (the app migrates only its embedded PGlite by itself). */
export async function migrateDatabase(url: string): Promise<void> {
  await (await openDatabase({ kind: "postgres", url, migrate: true, maxConnections: 1 })).close();
}

/**
 * Starts one production server of the build in .next on `port` (127.0.0.1) with exactly `serverEnv` (plus PORT and
 * HOSTNAME), and waits until GET / answers. Fails with its output when it exits first or does not answer in time.
 */
export async function startProductionServer(options: {
  port: number;
  serverEnv: NodeJS.ProcessEnv;
  kind?: ServerKind;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const { port, serverEnv, kind = "next-start", timeoutMs = 120_000 } = options;
  const baseUrl = `http://127.0.0.1:${port}`;
  const [command, args] =
    kind === "standalone"
      ? [process.execPath, [prepareStandalone()]]
      : ["npx", ["next", "start", "--port", String(port), "--hostname", "127.0.0.1"]];
  let output = "";
  const child: ChildProcess = spawn(command, args, {
    env: { ...serverEnv, PORT: String(port), HOSTNAME: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
  };
  try {
    await waitForHttp(`${baseUrl}/`, timeoutMs, () => child.exitCode !== null);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server output ---\n${output}`);
  }
  return { baseUrl, pid: child.pid, logs: () => output, exitCode: () => child.exitCode, stop };
}

/** The variables every server of a run gets: the stand-ins', a fresh AUTH_SECRET unless one is set, production. */
export function appServerEnv(services: Record<string, string>, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...services,
    // A production server refuses a generated secret, even on the stand-ins: a random one per run.
    AUTH_SECRET: env.AUTH_SECRET ?? randomBytes(32).toString("base64url"),
    ...extra,
    EMBEDDED_DEFAULTS: "1",
    NODE_ENV: "production",
  };
}

export async function startAppStack(options: AppStackOptions = {}): Promise<AppStack> {
  if (!fs.existsSync(path.join(".next", "BUILD_ID"))) {
    throw new Error("No production build in .next: run `npm run build` first.");
  }
  // Every server of the stack on a port of its own, chosen together (the app's is bound last, after the services).
  const [port = 0, bridgePort = 0, stripeSandboxPort = 0, smtpPort = 0, mailHttpPort = 0] = await freePorts(5);
  const baseUrl = `http://127.0.0.1:${port}`;
  const services = await startLocalServices({
    appUrl: baseUrl,
    stripeSandboxPort,
    bridgePort,
    stateFile: null,
    retryBaseMs: options.retryBaseMs ?? 100,
    mailPorts: { smtp: smtpPort, http: mailHttpPort },
    // The app's metered prices must exist when its Checkout asks for them.
    overage: options.appEnv?.BILLING_OVERAGE === "1",
  });
  if (env.DATABASE_URL) {
    // The app migrates only its embedded PGlite; a real Postgres (a fresh CI database) needs `db:migrate` first.
    try {
      await migrateDatabase(env.DATABASE_URL);
    } catch (error) {
      await services.close();
      throw error;
    }
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-stack-"));
  const cleanUp = async () => {
    await services.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let server: ServerProcess;
  try {
    server = await startProductionServer({
      port,
      kind: options.server,
      timeoutMs: 60_000,
      serverEnv: appServerEnv(services.env, { DATA_DIR: dataDir, ...options.appEnv, APP_URL: baseUrl }),
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const stop = async () => {
    await server.stop();
    await cleanUp();
  };
  return {
    baseUrl,
    stripeSandboxUrl: services.stripeSandboxUrl,
    mailInboxUrl: services.mailInboxUrl,
    logs: server.logs,
    dataDir,
    pid: server.pid,
    stop,
  };
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

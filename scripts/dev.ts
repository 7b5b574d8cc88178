// `npm run dev`: starts what the environment does not provide, then `next dev`, and stops it all together.
// - no STRIPE_SECRET_KEY: the Stripe sandbox on STRIPE_SANDBOX_PORT, with products, prices and the portal set up
// - REDIS_URL without UPSTASH_REDIS_REST_URL: the Upstash bridge in front of that Redis
// - no SMTP_URL: the local inbox (sandbox/mail) on MAIL_SANDBOX_SMTP_PORT / MAIL_SANDBOX_PORT
// The database needs nothing here: `next dev` is the only process that opens the embedded PGlite directory.
import { spawn } from "node:child_process";
import { env } from "../lib/env";
import { SANDBOX_SECRET_KEY, SANDBOX_WEBHOOK_SECRET } from "../lib/local-services";
import { isListening, startLocalServices } from "./local-services";

// How long `next dev` gets to exit on SIGTERM before its group is killed.
const GROUP_STOP_TIMEOUT_MS = 10_000;

async function main() {
  // PORT, else APP_URL's port, else 3000. Unset, APP_URL follows PORT (lib/env.ts), so redirects, email links and
  // the sandbox's webhooks reach this server; a public APP_URL (a tunnel in front of it) keeps its own port.
  const appUrl = new URL(env.APP_URL);
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(appUrl.hostname);
  const appPort = env.PORT ?? Number(appUrl.port || 3000);
  if (local && Number(appUrl.port || 80) !== appPort) {
    console.error(`The app would listen on port ${appPort} (PORT) but APP_URL=${env.APP_URL} points at another: unset APP_URL, or make them agree.`);
    process.exit(1);
  }
  if (await isListening(appPort)) {
    console.error(`Port ${appPort} is already in use (another \`npm run dev\` or \`npm start\`?). Stop it first.`);
    process.exit(1);
  }

  const services = await startLocalServices({
    appUrl: env.APP_URL,
    stripeSandboxPort: env.STRIPE_SANDBOX_PORT,
    bridgePort: env.UPSTASH_BRIDGE_PORT,
    stateFile: `${env.DATA_DIR}/stripe-sandbox.json`,
  });

  const child = spawn("npx", ["next", "dev", "--port", String(appPort)], {
    stdio: "inherit",
    env: { ...process.env, ...services.env },
    detached: true, // its own process group, so stopping dev stops every worker next spawned
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (child.pid) await stopGroup(child.pid);
    await services.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  child.on("exit", (code) => void stop(code ?? 0));

  const alias = appUrl.hostname === "localhost" ? ` (or http://127.0.0.1:${appPort})` : "";
  console.log(`App:             ${appUrl.origin}${alias}`);
  if (services.env.STRIPE_API_BASE) {
    console.log(`Stripe sandbox:  ${services.env.STRIPE_API_BASE} (key ${SANDBOX_SECRET_KEY}, webhook secret ${SANDBOX_WEBHOOK_SECRET})`);
  }
  if (services.mailInboxUrl) {
    console.log(`Local inbox:     ${services.mailInboxUrl} (every email the app sends, over ${services.env.SMTP_URL})`);
  }
  if (services.env.UPSTASH_REDIS_REST_URL) {
    console.log(`Upstash bridge:  ${services.env.UPSTASH_REDIS_REST_URL} -> ${env.REDIS_URL} (a random token for this run, handed to the app)`);
  }
}

// Stops `next dev` and every worker it spawned, and returns once the whole group is gone, so the port is free when
// `npm run dev` exits (a restart right after, or a test checking the port, would otherwise meet a dying server).
async function stopGroup(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, name);
      return true;
    } catch {
      return false; // ESRCH: no process of the group is left
    }
  };
  if (!signal("SIGTERM")) return;
  const deadline = Date.now() + GROUP_STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!signal(0)) return;
  }
  signal("SIGKILL");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

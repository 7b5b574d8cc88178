// `npm run sandbox:stripe`: the Stripe sandbox as its own process, on 127.0.0.1:${STRIPE_SANDBOX_PORT:-12111}, delivering
// every event to the local app's webhook route and keeping its state in .data/ across restarts. The sandbox never
// imports the app, so it reads its variables here rather than through lib/env; the defaults come from lib/local-services.
import path from "node:path";
import {
  LOCAL_WEBHOOK_URL,
  SANDBOX_WEBHOOK_SECRET,
  STRIPE_SANDBOX_DEFAULT_PORT,
  STRIPE_SANDBOX_STATE_FILE,
} from "../../lib/local-services";
import { startStripeSandbox } from "./index";
import { throttleOptionsFromEnv } from "./throttle";

const flag = (value: string | undefined, fallback: boolean): boolean =>
  value === undefined || value === "" ? fallback : !["0", "false", "off", "no"].includes(value.toLowerCase());

const sandbox = await startStripeSandbox({
  port: Number(process.env.STRIPE_SANDBOX_PORT || STRIPE_SANDBOX_DEFAULT_PORT),
  host: "127.0.0.1",
  stateFile: path.resolve(process.env.STRIPE_SANDBOX_STATE || STRIPE_SANDBOX_STATE_FILE),
  webhooks: [
    {
      url: process.env.STRIPE_WEBHOOK_URL || LOCAL_WEBHOOK_URL,
      secret: process.env.STRIPE_WEBHOOK_SECRET || SANDBOX_WEBHOOK_SECRET,
    },
  ],
  autoTestClock: flag(process.env.STRIPE_SANDBOX_AUTO_TEST_CLOCK, true),
  throttle: throttleOptionsFromEnv(process.env),
});

console.log(`Stripe sandbox listening on ${sandbox.url} (admin page at ${sandbox.url}/)`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  sandbox
    .close()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      console.error(`Stripe sandbox: error while stopping on ${signal}`, error);
      process.exit(1);
    });
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

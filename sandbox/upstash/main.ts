// `npm run sandbox:upstash`: the Upstash REST bridge as a standalone process. The sandbox is its own program and
// never imports the app, so it reads its three variables here rather than through lib/env. Without
// UPSTASH_REDIS_REST_TOKEN it makes a random token for this run and prints it (`npm run dev` does the same and hands
// it to the app itself); there is no fixed token.
import { LOCAL_REDIS_URL, UPSTASH_BRIDGE_DEFAULT_PORT, newBridgeToken } from "../../lib/local-services";
import { startUpstashBridge } from "./index";

function portFrom(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return UPSTASH_BRIDGE_DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`UPSTASH_BRIDGE_PORT must be a port number (0-65535), got "${value}"`);
  }
  return port;
}

const redisUrl = process.env.REDIS_URL?.trim() || LOCAL_REDIS_URL;
const given = process.env.UPSTASH_REDIS_REST_TOKEN?.trim();
const token = given || newBridgeToken();

let lastRedisError = "";
const bridge = await startUpstashBridge({
  port: portFrom(process.env.UPSTASH_BRIDGE_PORT),
  redisUrl,
  token,
  // ioredis repeats the same error on every reconnect attempt; say it once per change.
  onRedisError(error) {
    if (error.message === lastRedisError) return;
    lastRedisError = error.message;
    console.error(`[upstash-bridge] redis ${redisUrl}: ${error.message}`);
  },
});

console.log(`[upstash-bridge] UPSTASH_REDIS_REST_URL=${bridge.url} -> ${redisUrl}`);
console.log(
  given
    ? "[upstash-bridge] token: UPSTASH_REDIS_REST_TOKEN"
    : `[upstash-bridge] UPSTASH_REDIS_REST_TOKEN=${token} (random for this run; set it in the app's environment)`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    bridge.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("[upstash-bridge] failed to stop cleanly:", error);
        process.exit(1);
      },
    );
  });
}

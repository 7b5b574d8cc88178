// `npm run sandbox:upstash`: the Upstash REST bridge as a standalone process. The sandbox is its own program and
// never imports the app, so it reads its three variables here rather than through lib/env.
import { startUpstashBridge } from "./server";

const DEFAULT_TOKEN = "hourglass-local-token";

function portFrom(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 8079;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`UPSTASH_BRIDGE_PORT must be a port number (0-65535), got "${value}"`);
  }
  return port;
}

const redisUrl = process.env.REDIS_URL?.trim() || "redis://127.0.0.1:6379";
const token = process.env.UPSTASH_REDIS_REST_TOKEN?.trim() || DEFAULT_TOKEN;

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

console.log(
  `[upstash-bridge] UPSTASH_REDIS_REST_URL=${bridge.url} -> ${redisUrl} ` +
    `(token ${token === DEFAULT_TOKEN ? `"${DEFAULT_TOKEN}"` : "from UPSTASH_REDIS_REST_TOKEN"})`,
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

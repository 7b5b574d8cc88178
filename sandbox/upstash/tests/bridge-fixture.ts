// Starts the Upstash bridge in front of the real Redis at REDIS_URL for one test file, with a random token and
// a unique key prefix; `close` deletes every key under that prefix and stops everything.
import { randomUUID } from "node:crypto";
import { Redis as UpstashRedis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { startUpstashBridge, type UpstashBridge } from "../index";

export const redisUrl = process.env.REDIS_URL;

export interface BridgeFixture {
  bridge: UpstashBridge;
  token: string;
  /** Direct connection to the same Redis, to look behind the bridge. */
  redis: IORedis;
  /** A default-settings @upstash/redis client for the bridge (auto-pipelining and base64 on). */
  client(): UpstashRedis;
  close(): Promise<void>;
}

export async function startBridgeFixture(cleanupPatterns: string[]): Promise<BridgeFixture> {
  if (!redisUrl) throw new Error("REDIS_URL is not set");
  const token = `test-${randomUUID()}`;
  const bridge = await startUpstashBridge({ port: 0, redisUrl, token });
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  return {
    bridge,
    token,
    redis,
    client: () => new UpstashRedis({ url: bridge.url, token, enableTelemetry: false }),
    async close() {
      for (const pattern of cleanupPatterns) {
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== "0");
      }
      redis.disconnect();
      await bridge.close();
    },
  };
}

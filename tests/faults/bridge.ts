// When REDIS_URL is set, the fault tests run the budget through the real Upstash client, the bridge and Redis:
// this starts the bridge (optionally through a proxy) and points the app's env at it before app modules load.
import { randomUUID } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { afterAll } from "vitest";
import { startUpstashBridge } from "../../sandbox/upstash";

export const redisUrl = process.env.REDIS_URL;

export async function startBridgeBudgetStore(options: { redisUrl?: string } = {}) {
  if (!redisUrl) throw new Error("REDIS_URL is not set");
  const token = `faults-${randomUUID()}`;
  const bridge = await startUpstashBridge({ port: 0, redisUrl: options.redisUrl ?? redisUrl, token, onRedisError: () => {} });
  process.env.UPSTASH_REDIS_REST_URL = bridge.url;
  process.env.UPSTASH_REDIS_REST_TOKEN = token;
  const direct = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  const userIds = new Set<string>();
  afterAll(async () => {
    for (const userId of userIds) {
      const keys = await direct.keys(`chatbot-usage:${userId}*`);
      if (keys.length > 0) await direct.del(...keys);
    }
    direct.disconnect();
    await bridge.close();
  });
  return { bridge, token, direct, track: (userId: string) => userIds.add(userId) };
}

// The bridge `npm run dev` (and the e2e/bench stacks) start through scripts/local-services: a fresh random token per
// run, handed to the app in UPSTASH_REDIS_REST_TOKEN, and no fixed token that any other local process could know.
import { Redis as UpstashRedis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { BRIDGE_TOKEN_PREFIX } from "@/lib/local-services";
import { startLocalServices } from "@/scripts/local-services";

const redisUrl = process.env.REDIS_URL;

async function ping(url: string, token: string): Promise<number> {
  const response = await fetch(url, { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: '["ping"]' });
  return response.status;
}

describe.runIf(redisUrl && !process.env.UPSTASH_REDIS_REST_URL)("local services: the Upstash bridge's token", () => {
  it("is random per run, reaches the app through its env, and the old fixed token is refused", async () => {
    const options = { appUrl: "http://127.0.0.1:9", stripeSandboxPort: 0, bridgePort: 0, stateFile: null } as const;
    const first = await startLocalServices(options);
    const second = await startLocalServices(options);
    try {
      const [a, b] = [first.env, second.env];
      expect(a.UPSTASH_REDIS_REST_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(a.UPSTASH_REDIS_REST_TOKEN).toMatch(new RegExp(`^${BRIDGE_TOKEN_PREFIX}[A-Za-z0-9_-]{32}$`));
      expect(b.UPSTASH_REDIS_REST_TOKEN).not.toBe(a.UPSTASH_REDIS_REST_TOKEN);

      const url = a.UPSTASH_REDIS_REST_URL ?? "";
      const token = a.UPSTASH_REDIS_REST_TOKEN ?? "";
      const app = new UpstashRedis({ url, token, enableTelemetry: false });
      expect(await app.ping()).toBe("PONG");
      expect(await ping(url, "hourglass-local-token")).toBe(401);
      expect(await ping(url, b.UPSTASH_REDIS_REST_TOKEN ?? "")).toBe(401);
      expect(await ping(url, token)).toBe(200);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

// The real route with the environment pointing at a database and an Upstash endpoint that are both down:
// 503, naming both, while /api/health still answers 200.
import net from "node:net";
import { describe, expect, it } from "vitest";

async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${await deadPort()}/gone`;
process.env.UPSTASH_REDIS_REST_URL = `http://127.0.0.1:${await deadPort()}`;
process.env.UPSTASH_REDIS_REST_TOKEN = "token";

const { GET } = await import("@/app/api/ready/route");
const { GET: health } = await import("@/app/api/health/route");

describe("GET /api/ready with its dependencies down", () => {
  it("answers 503 naming the database and the budget store", async () => {
    const response = await GET();
    expect(response.status).toBe(503);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.json();
    expect(body).toMatchObject({
      status: "unavailable",
      down: ["database", "budgetStore"],
      checks: { database: { ok: false }, budgetStore: { ok: false } },
    });
    expect(health().status).toBe(200);
  });
});

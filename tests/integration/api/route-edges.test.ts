// The edge checks of /api/chat and the Stripe webhook route, on the real route modules: 403 cross-origin, 415
// non-JSON chat, 413 over the byte cap (declared or streamed), and an oversized stream is not read to its end.
import { describe, expect, it } from "vitest";

process.env.AUTH_SECRET ??= "integration-test-secret-0123456789abcdef";
const { env } = await import("@/lib/env");
const chat = await import("@/app/api/chat/route");
const webhook = await import("@/app/api/webhooks/stripe/route");
const authRoute = await import("@/app/api/auth/[...nextauth]/route");
const { NextRequest } = await import("next/server");

const origin = new URL(env.APP_URL).origin;

/** `total` bytes of JSON-ish filler in 64 kB chunks, made on demand, counting what the server pulled. */
function streamed(total: number) {
  const counter = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= total) return controller.close();
      const chunk = new TextEncoder().encode("x".repeat(Math.min(64 * 1024, total - counter.pulled)));
      counter.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { body, counter };
}

const post = (path: string, headers: Record<string, string>, body: BodyInit | ReadableStream<Uint8Array>) =>
  new Request(`${origin}${path}`, { method: "POST", headers, body, duplex: "half" } as RequestInit);

describe("/api/chat edge", () => {
  it("refuses a cross-origin post with 403 and a non-JSON one with 415", async () => {
    const cross = await chat.POST(post("/api/chat", { origin: "http://evil.example", "content-type": "application/json" }, "{}"));
    expect(cross.status).toBe(403);
    for (const type of ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""]) {
      const response = await chat.POST(post("/api/chat", { origin, ...(type ? { "content-type": type } : {}) }, "{}"));
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ error: { message: "Unsupported content type: send application/json." } });
    }
  });

  it("refuses 100 MB streamed without Content-Length with 413 after reading little more than 256 kB", async () => {
    const { body, counter } = streamed(100 * 1024 * 1024);
    const response = await chat.POST(post("/api/chat", { origin, "content-type": "application/json" }, body));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { message: "The request body is larger than 256 kB. Send at most 256 kB." } });
    expect(counter.pulled).toBeLessThan(1024 * 1024);
  });
});

describe("Stripe webhook edge", () => {
  it("refuses a declared 100 MB body at once and a streamed 2 MB body at 1 MB, both 413", async () => {
    const declared = streamed(100 * 1024 * 1024);
    const first = await webhook.POST(
      post("/api/webhooks/stripe", { "content-length": String(100 * 1024 * 1024), "stripe-signature": "t=1,v1=00" }, declared.body),
    );
    expect(first.status).toBe(413);
    expect(declared.counter.pulled).toBeLessThanOrEqual(128 * 1024);

    const chunked = streamed(2 * 1024 * 1024);
    const second = await webhook.POST(post("/api/webhooks/stripe", { "stripe-signature": "t=1,v1=00" }, chunked.body));
    expect(second.status).toBe(413);
    expect(await second.json()).toMatchObject({ error: { message: "The request body is larger than 1 MB. Send at most 1 MB." } });
    expect(chunked.counter.pulled).toBeLessThan(1.5 * 1024 * 1024);
  });

  it("still answers a small unsigned body with 400, not 413", async () => {
    const response = await webhook.POST(post("/api/webhooks/stripe", { "content-type": "application/json" }, "{}"));
    expect(response.status).toBe(400);
  });
});

describe("Auth.js POST routes edge", () => {
  it("refuses a cross-origin sign-in or sign-out post with 403 before Auth.js runs", async () => {
    for (const path of ["/api/auth/callback/credentials", "/api/auth/signout", "/api/auth/signin/github"]) {
      const request = new NextRequest(`${origin}${path}`, {
        method: "POST",
        headers: { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" },
        body: "email=a%40example.com&password=x",
      });
      expect((await authRoute.POST(request)).status).toBe(403);
    }
    // From the app itself the request reaches Auth.js (which then wants its CSRF token).
    const own = await authRoute.POST(
      new NextRequest(`${origin}/api/auth/signout`, { method: "POST", headers: { origin, "content-type": "application/x-www-form-urlencoded" }, body: "" }),
    );
    expect(own.status).not.toBe(403);
  });
});

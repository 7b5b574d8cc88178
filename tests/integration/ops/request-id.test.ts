// The request id's edge: proxy.ts hands every app route and page an id (a safe incoming X-Request-Id, else a new
// one), passes it to the route and returns it; static files are left alone. The logger stamps it on every line.
import { Writable } from "node:stream";
import { unstable_doesMiddlewareMatch } from "next/experimental/testing/server";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { config, proxy } from "@/proxy";
import { createLogger } from "@/server/ops/log";
import { runWithRequestId, withRequestId } from "@/server/ops/request-context";
import { isSafeRequestId, requestIdFrom } from "@/server/ops/request-id";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("request ids", () => {
  it("keeps a short id of letters, digits and . _ - :, and replaces anything else with a new UUID", () => {
    for (const safe of ["abc", "1-67891233-abcdef012345678912345678", "req_01.2:3-x", "x".repeat(64)]) {
      expect(isSafeRequestId(safe), safe).toBe(true);
      expect(requestIdFrom(new Headers({ "x-request-id": safe }))).toBe(safe);
    }
    for (const unsafe of ["", "x".repeat(65), "a b", 'a"b', "a\nb", "<script>", "é", "a,b", "a;b", "k=v"]) {
      expect(isSafeRequestId(unsafe), unsafe).toBe(false);
    }
    // As headers (a header value cannot hold a newline or "é" at all).
    for (const unsafe of ["x".repeat(65), "a b", 'a"b', "<script>", "a,b", "a;b", "k=v", "   "]) {
      expect(requestIdFrom(new Headers({ "x-request-id": unsafe })), unsafe).toMatch(UUID);
    }
    expect(requestIdFrom(new Headers())).toMatch(UUID);
    // Two requests without an id get two different ones.
    expect(requestIdFrom(new Headers())).not.toBe(requestIdFrom(new Headers()));
  });

  it("proxy.ts passes the id to the route in the request headers and returns it in the response", () => {
    const kept = proxy(new NextRequest("http://app/api/chat", { headers: { "x-request-id": "edge-42" } }));
    expect(kept.headers.get("x-request-id")).toBe("edge-42");
    // Next's way of overriding request headers for the route: the list and each header's new value.
    expect(kept.headers.get("x-middleware-override-headers")).toContain("x-request-id");
    expect(kept.headers.get("x-middleware-request-x-request-id")).toBe("edge-42");
    // No redirect or rewrite: the route (the webhook's above all) sees the request as sent.
    expect(kept.headers.get("x-middleware-next")).toBe("1");
    expect(kept.headers.get("location")).toBeNull();

    const made = proxy(new NextRequest("http://app/pricing", { headers: { "x-request-id": "not safe!" } }));
    const id = made.headers.get("x-request-id");
    expect(id).toMatch(UUID);
    expect(made.headers.get("x-middleware-request-x-request-id")).toBe(id);
  });

  it("runs on pages and body-less API routes, not on static files nor on the routes that take bodies (they set their own id)", () => {
    const runsOn = (url: string) => unstable_doesMiddlewareMatch({ config, url });
    for (const url of ["/", "/pricing", "/api/health", "/api/ready", "/account"]) expect(runsOn(url), url).toBe(true);
    // In front of a route the proxy makes Next buffer the request body: these cap their bodies and wrap withRequestId.
    for (const url of ["/api/webhooks/stripe", "/api/chat", "/api/trpc/billing.status"]) expect(runsOn(url), url).toBe(false);
    for (const url of ["/_next/static/chunks/main.js", "/_next/image?url=%2Fa.png&w=64&q=75", "/favicon.ico", "/logo.svg", "/robots.txt"]) {
      expect(runsOn(url), url).toBe(false);
    }
  });

  it("a route called without the proxy still answers with an id, and everything logged inside carries it", async () => {
    const written: string[] = [];
    const logger = createLogger(new Writable({ write: (chunk, _encoding, done) => (written.push(String(chunk)), done()) }), "info");
    const response = await withRequestId(new Request("http://app/x", { headers: { "x-request-id": "abc-1" } }), async () => {
      logger.info({ step: 1 }, "inside");
      return Response.redirect("http://app/elsewhere", 303); // immutable headers: copied, not lost
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("x-request-id")).toBe("abc-1");
    logger.info("outside");
    runWithRequestId("other", () => logger.warn("nested"));
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ level: "info", msg: "inside", step: 1, requestId: "abc-1", service: "hourglass", time: expect.any(String) }),
      expect.not.objectContaining({ requestId: expect.anything() }),
      expect.objectContaining({ level: "warn", msg: "nested", requestId: "other" }),
    ]);
  });
});

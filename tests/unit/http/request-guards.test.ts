import { describe, expect, it } from "vitest";
import { appOrigins, BodyTooLargeError, guardRequest, isSameOrigin, readBodyWithLimit, requestAppOrigin } from "@/server/http/request-guards";

const app = "https://app.example.com";

/** A body of `total` bytes in 64 kB chunks, made on demand; `pulled` says how much the reader asked for. */
function endlessBody(total: number) {
  const counter = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= total) return controller.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, total - counter.pulled));
      counter.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() {
      counter.cancelled = true;
    },
  });
  return { stream, counter };
}

const post = (init: { headers?: Record<string, string>; body?: BodyInit | ReadableStream<Uint8Array> }) =>
  new Request(`${app}/api/x`, { method: "POST", ...init, duplex: "half" } as RequestInit);

describe("isSameOrigin", () => {
  it("accepts this app's exact origin, or Sec-Fetch-Site: same-origin without an Origin", () => {
    expect(isSameOrigin(new Headers({ origin: app }), app)).toBe(true);
    expect(isSameOrigin(new Headers({ origin: app, "sec-fetch-site": "same-origin" }), app)).toBe(true);
    expect(isSameOrigin(new Headers({ "sec-fetch-site": "same-origin" }), app)).toBe(true);
  });
  it.each([
    [{ origin: "http://evil.example" }],
    [{ origin: "https://sub.app.example.com" }],
    [{ origin: "https://app.example.com:8443" }],
    [{ origin: "http://app.example.com" }],
    [{ origin: "null" }],
    [{ "sec-fetch-site": "same-site" }],
    [{ "sec-fetch-site": "cross-site", origin: app }],
    [{}],
  ])("refuses %o", (headers) => {
    expect(isSameOrigin(new Headers(headers), app)).toBe(false);
  });
});

describe("requestAppOrigin (where Checkout and the portal send the user back)", () => {
  const dev = { APP_URL: "http://localhost:3100", NODE_ENV: "development" as const };
  it("in development, the loopback name the page is on, from Origin or else Host", () => {
    expect(requestAppOrigin(new Headers({ origin: "http://127.0.0.1:3100" }), dev)).toBe("http://127.0.0.1:3100");
    expect(requestAppOrigin(new Headers({ host: "127.0.0.1:3100" }), dev)).toBe("http://127.0.0.1:3100");
    expect(requestAppOrigin(new Headers({ host: "localhost:3100" }), dev)).toBe("http://localhost:3100");
  });
  it("never an origin that is not the app's: another port, another host, or anything but APP_URL outside development", () => {
    expect(requestAppOrigin(new Headers({ origin: "http://127.0.0.1:3000" }), dev)).toBeNull();
    expect(requestAppOrigin(new Headers({ origin: "https://evil.example" }), dev)).toBeNull();
    expect(requestAppOrigin(new Headers({ host: "evil.example" }), dev)).toBeNull();
    expect(requestAppOrigin(new Headers(), dev)).toBeNull();
    const production = { APP_URL: "https://app.example.com", NODE_ENV: "production" as const };
    expect(requestAppOrigin(new Headers({ origin: "http://localhost:3000" }), production)).toBeNull();
    expect(requestAppOrigin(new Headers({ host: "app.example.com" }), production)).toBe("https://app.example.com");
  });
});

describe("appOrigins", () => {
  it("in development, a loopback APP_URL also accepts the other loopback names on the same port", () => {
    const origins = appOrigins({ APP_URL: "http://localhost:3100", NODE_ENV: "development" });
    expect(origins).toEqual(["http://localhost:3100", "http://127.0.0.1:3100", "http://[::1]:3100"]);
    expect(isSameOrigin(new Headers({ origin: "http://127.0.0.1:3100" }), origins)).toBe(true);
    expect(isSameOrigin(new Headers({ origin: "http://localhost:3100" }), origins)).toBe(true);
    // Another port is another app, loopback or not.
    expect(isSameOrigin(new Headers({ origin: "http://127.0.0.1:3000" }), origins)).toBe(false);
    expect(isSameOrigin(new Headers({ origin: "https://localhost:3100" }), origins)).toBe(false);
  });
  it("outside development, or for a public APP_URL, only APP_URL's own origin", () => {
    expect(appOrigins({ APP_URL: "http://localhost:3000", NODE_ENV: "production" })).toEqual(["http://localhost:3000"]);
    expect(appOrigins({ APP_URL: "http://localhost:3000", NODE_ENV: "test" })).toEqual(["http://localhost:3000"]);
    expect(appOrigins({ APP_URL: "https://app.example.com", NODE_ENV: "development" })).toEqual(["https://app.example.com"]);
    const production = appOrigins({ APP_URL: "http://127.0.0.1:3000", NODE_ENV: "production" });
    expect(isSameOrigin(new Headers({ origin: "http://localhost:3000" }), production)).toBe(false);
  });
});

describe("readBodyWithLimit", () => {
  it("refuses a declared Content-Length over the cap without reading a byte", async () => {
    const { stream, counter } = endlessBody(10 * 1024 * 1024);
    const request = post({ headers: { "content-length": String(10 * 1024 * 1024) }, body: stream });
    await expect(readBodyWithLimit(request, 1024)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(counter.pulled).toBeLessThanOrEqual(64 * 1024); // at most the stream's own first pull
  });

  it("stops a streamed body with no Content-Length as soon as it passes the cap, without pulling the rest", async () => {
    const { stream, counter } = endlessBody(100 * 1024 * 1024);
    await expect(readBodyWithLimit(post({ body: stream }), 256 * 1024)).rejects.toThrow("The request body is larger than 256 kB.");
    expect(counter.cancelled).toBe(true);
    expect(counter.pulled).toBeLessThan(512 * 1024);
  });

  it("returns a body within the cap whole", async () => {
    const body = await readBodyWithLimit(post({ body: "x".repeat(1000) }), 1000);
    expect(body.byteLength).toBe(1000);
  });
});

describe("guardRequest", () => {
  const options = { sameOrigin: true, contentTypes: ["application/json"], maxBytes: 64 * 1024, appOrigin: app };
  const answer = async (request: Request) => {
    const result = await guardRequest(request, options);
    if (result.ok) return { status: 200, message: "" };
    return { status: result.response.status, message: ((await result.response.json()) as { error: { message: string } }).error.message };
  };

  it("refuses cross-origin writes with 403 before anything else", async () => {
    const form = new FormData();
    form.set("x", "1");
    expect(await answer(post({ headers: { origin: "http://evil.example" }, body: form }))).toMatchObject({ status: 403, message: /Cross-origin/ });
  });

  it("refuses other content types with 415, including multipart forms and text/plain", async () => {
    const form = new FormData();
    form.set("x", "1");
    expect((await answer(post({ headers: { origin: app }, body: form }))).status).toBe(415);
    expect((await answer(post({ headers: { origin: app, "content-type": "text/plain" }, body: "{}" }))).status).toBe(415);
    expect((await answer(post({ headers: { origin: app, "content-type": "application/x-www-form-urlencoded" }, body: "a=1" }))).status).toBe(415);
  });

  it("refuses an oversized body with 413 and a clear message; passes a good one on with its body", async () => {
    const big = post({ headers: { origin: app, "content-type": "application/json" }, body: "x".repeat(64 * 1024 + 1) });
    expect(await answer(big)).toEqual({ status: 413, message: "The request body is larger than 64 kB. Send at most 64 kB." });
    const result = await guardRequest(post({ headers: { origin: app, "content-type": "application/json; charset=utf-8" }, body: '{"a":1}' }), options);
    expect(result.ok).toBe(true);
    if (result.ok) expect(await result.request.json()).toEqual({ a: 1 });
  });
});

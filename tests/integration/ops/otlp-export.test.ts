// startTracing() as instrumentation.ts calls it: nothing at all without OTEL_EXPORTER_OTLP_ENDPOINT; with it, spans
// leave the process over OTLP/HTTP to <endpoint>/v1/traces, here a local collector stand-in that records each POST.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { afterAll, describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { inSpan } from "@/server/ops/telemetry";
import { otlpTracesUrl, startTracing } from "@/server/ops/tracing";

const received: Array<{ path: string; contentType: string; body: Buffer }> = [];
const collector = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    received.push({ path: req.url ?? "", contentType: String(req.headers["content-type"]), body: Buffer.concat(chunks) });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));
const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/otel/`;

describe("OTLP export", () => {
  it("builds the traces URL the OTLP spec way", () => {
    expect(otlpTracesUrl("http://collector:4318")).toBe("http://collector:4318/v1/traces");
    expect(otlpTracesUrl("https://otlp.example.com/api/")).toBe("https://otlp.example.com/api/v1/traces");
  });

  it("refuses an endpoint that is not a URL, naming the variable", () => {
    expect(() => parseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\):\/\/ URL/);
  });

  it("installs nothing without an endpoint, and exports spans to <endpoint>/v1/traces with one", async () => {
    expect(startTracing(parseEnv({}))).toBeNull();
    // No provider: spans are the API's no-op ones.
    await inSpan("before", {}, async (span) => expect(span.isRecording()).toBe(false));

    const provider = startTracing(parseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "hourglass-otlp-test" }));
    expect(provider).not.toBeNull();
    await inSpan("budget.reserve", { "budget.upper_bound": 1234 }, async (span) => expect(span.isRecording()).toBe(true));
    await provider?.forceFlush();
    expect(received.length).toBeGreaterThan(0);
    expect(received.every((post) => post.path === "/otel/v1/traces")).toBe(true);
    const body = Buffer.concat(received.map((post) => post.body)).toString("latin1");
    // OTLP protobuf or JSON alike carry the names as plain bytes.
    expect(body).toContain("budget.reserve");
    expect(body).toContain("hourglass-otlp-test");
    expect(body).not.toContain("before");
    await provider?.shutdown();
    trace.disable();
  });
});

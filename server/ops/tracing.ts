// Installs OpenTelemetry tracing for the process: a tracer provider, the async context that makes spans nest, and
// W3C trace context so an incoming `traceparent` continues the caller's trace. instrumentation.ts calls
// startTracing() at server start; it exports over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and
// otherwise installs nothing (spans stay no-ops). Tests install the same setup with an in-memory exporter.
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { env, type Env } from "@/lib/env";

/** Makes `provider`'s spans the process's spans. Returns the provider (flush or shut it down through it). */
export function installTracing(spanProcessors: SpanProcessor[], serviceName: string = env.OTEL_SERVICE_NAME): TracerProvider {
  const provider = new TracerProvider({ resource: resourceFromAttributes({ "service.name": serviceName }), spanProcessors });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return provider;
}

/** The OTLP/HTTP traces URL of a collector base URL: <endpoint>/v1/traces, as the OTLP spec builds it. */
export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

/**
 * Exports spans to OTEL_EXPORTER_OTLP_ENDPOINT in batches (every 5 s, or 512 spans); does nothing and returns null
 * when it is unset. The exporter itself also reads OTEL_EXPORTER_OTLP_HEADERS (a collector's API key) if present.
 */
export function startTracing(current: Env = env): TracerProvider | null {
  if (!current.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const exporter = new OTLPTraceExporter({ url: otlpTracesUrl(current.OTEL_EXPORTER_OTLP_ENDPOINT) });
  return installTracing([new BatchSpanProcessor({ exporter })], current.OTEL_SERVICE_NAME);
}

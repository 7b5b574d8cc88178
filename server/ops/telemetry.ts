// Spans for the app's own work (webhooks, Stripe calls, budget operations, chats) through the OpenTelemetry API.
// With no tracer provider installed (OTEL_EXPORTER_OTLP_ENDPOINT unset, see tracing.ts) every call here is a cheap
// no-op. Each span carries the id of the request it belongs to, the same one the log lines and X-Request-Id show.
import { SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import { currentRequestId } from "./request-context";

export type { Attributes, Span } from "@opentelemetry/api";

/** The attribute naming the request id on every span. */
export const REQUEST_ID_ATTRIBUTE = "hourglass.request_id";

// A proxy tracer: it follows whichever provider is installed, also one installed after this module loads.
const tracer = trace.getTracer("hourglass");

function withRequestId(attributes: Attributes): Attributes {
  const requestId = currentRequestId();
  return requestId ? { [REQUEST_ID_ATTRIBUTE]: requestId, ...attributes } : attributes;
}

/** Marks a span failed with the error, without ending it. */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `fn` inside a new active span (its children, Stripe calls for example, nest under it) and ends it when `fn`
 * settles; a thrown error marks the span failed and is rethrown unchanged.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes: withRequestId(attributes) }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Starts a span the caller ends itself (work whose end is a callback, such as a streamed chat answer). */
export function startSpan(name: string, attributes: Attributes): Span {
  return tracer.startSpan(name, { attributes: withRequestId(attributes) });
}

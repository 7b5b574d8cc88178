// The app's structured logger: one JSON object per line on stdout (pino), with the request id of the request being
// served and the active trace's ids, so a log line leads to its trace and back. LOG_LEVEL picks the least severe
// level written. Safe to import from scripts (no server-only, no Next).
import { isSpanContextValid, trace } from "@opentelemetry/api";
import pino, { type DestinationStream, type Logger } from "pino";
import { env } from "@/lib/env";
import { currentRequestId } from "./request-context";

export type { Logger } from "pino";

export function createLogger(destination: DestinationStream = process.stdout, level: string = env.LOG_LEVEL): Logger {
  return pino(
    {
      level,
      base: { service: env.OTEL_SERVICE_NAME, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"warn" reads better in any log viewer than pino's numeric 40.
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const fields: Record<string, string> = {};
        const requestId = currentRequestId();
        if (requestId) fields.requestId = requestId;
        const span = trace.getActiveSpan()?.spanContext();
        if (span && isSpanContextValid(span)) {
          fields.traceId = span.traceId;
          fields.spanId = span.spanId;
        }
        return fields;
      },
    },
    destination,
  );
}

/** The process's logger. `log.warn({ eventId }, "message")`; errors go under `err` so pino serializes their stack. */
export const log: Logger = createLogger();

/** An error's message for a one-line summary (the stack goes in `err`). */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

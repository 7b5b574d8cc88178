// Captures the app's structured log (server/ops/log.ts writes one JSON object per line to stdout) for a test to
// read: every JSON line written while capturing is parsed and kept; anything else passes through to stdout.
import { vi } from "vitest";

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export function captureLogs() {
  const lines: LogLine[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const kept = text.split("\n").filter((line) => {
      if (!line.startsWith("{")) return line !== "";
      try {
        lines.push(JSON.parse(line) as LogLine);
        return false;
      } catch {
        return true;
      }
    });
    if (kept.length > 0) return (write as (text: string, ...rest: unknown[]) => boolean)(`${kept.join("\n")}\n`, ...rest);
    const callback = rest.find((arg): arg is () => void => typeof arg === "function");
    callback?.();
    return true;
  });
  return {
    lines,
    /** The lines at one level ("warn", "error", ...). */
    at: (level: string) => lines.filter((line) => line.level === level),
    restore: () => spy.mockRestore(),
  };
}

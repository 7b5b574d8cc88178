// Client components run in the browser: a value imported from server/ would pull server code (and its secrets'
// readers) into the bundle, or break the build. Types are erased, so `import type` is fine; shared wire formats
// live in lib/.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOTS = ["app", "lib"];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx)$/.test(entry.name) ? [full] : [];
  });
}

const directive = (file: string, name: string) => new RegExp(`^\\s*["']${name}["']`, "m").test(fs.readFileSync(file, "utf8").slice(0, 200));

/**
 * Files that say "use client", and those they import relatively (chat-failure.ts is imported by chat-view.tsx).
 * A "use server" file is a server action: the client gets a reference to it, not its code.
 */
function clientFiles(): string[] {
  const all = ROOTS.flatMap(sourceFiles);
  const client = new Set(all.filter((file) => directive(file, "use client")));
  for (const file of [...client]) {
    for (const [, spec] of fs.readFileSync(file, "utf8").matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
      const base = path.join(path.dirname(file), spec!);
      const found = [".ts", ".tsx"].map((ext) => base + ext).find((candidate) => fs.existsSync(candidate));
      if (found && !directive(found, "use server")) client.add(found);
    }
  }
  return [...client];
}

/** Non-type imports of server/ modules in a file's source. */
export function serverValueImports(source: string): string[] {
  return [...source.matchAll(/^import\s+(?!type\s)[^;]*?from\s+["'](@\/server\/[^"']*)["']/gm)].map((match) => match[1]!);
}

describe("client components", () => {
  it("finds the client components it checks", () => {
    const files = clientFiles();
    expect(files).toContain(path.join("app", "chat", "chat-view.tsx"));
    expect(files).toContain(path.join("app", "chat", "chat-failure.ts"));
  });

  it("import no values from server/ (types only)", () => {
    const offenders = clientFiles().flatMap((file) => serverValueImports(fs.readFileSync(file, "utf8")).map((spec) => `${file}: ${spec}`));
    expect(offenders).toEqual([]);
  });

  it("the check tells a value import from a type import", () => {
    expect(serverValueImports('import { plans } from "@/server/billing/plans";')).toEqual(["@/server/billing/plans"]);
    expect(serverValueImports('import type { AppRouter } from "@/server/api/root";')).toEqual([]);
  });
});

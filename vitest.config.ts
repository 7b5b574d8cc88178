import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@\//, replacement: `${root}/` },
      // `server-only` throws outside a React Server Components bundle; tests import server modules directly.
      { find: /^server-only$/, replacement: path.join(root, "tests/setup/server-only-stub.ts") },
    ],
  },
  test: {
    // Vitest runs one file at a time on a 2-core machine (cores - 1). Most files wait on the sandbox, Postgres or Redis
    // rather than compute, and each integration file has its own database: three at once halve the suite there.
    maxWorkers: Math.max(3, os.availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts", "sandbox/mail/tests/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        extends: true,
        test: {
          // The local stand-ins' own suites (sandbox/stripe/tests, sandbox/upstash/tests): no app database needed.
          name: "sandbox",
          include: ["sandbox/*/tests/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/setup/integration-global.ts"],
          setupFiles: ["tests/setup/integration-file.ts"],
          // Sign-ups hash at scrypt N = 2^17 (~0.3 s of a free core, seconds on a loaded CI machine).
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // next-auth imports `next/server` without the extension Node's ESM resolver needs; let Vite resolve it.
          server: { deps: { inline: ["next-auth"] } },
        },
      },
    ],
  },
});

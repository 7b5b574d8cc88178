// The fault suite (`npm run test:faults`): the integration setup (a fresh database per file, PGlite or Postgres from
// DATABASE_URL), with the longer timeouts that outages, retries and 50-customer lifecycles need.
import path from "node:path";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@\//, replacement: `${root}/` },
      { find: /^server-only$/, replacement: path.join(root, "tests/setup/server-only-stub.ts") },
    ],
  },
  test: {
    name: "faults",
    include: ["tests/faults/**/*.test.ts"],
    environment: "node",
    globalSetup: ["tests/setup/integration-global.ts"],
    setupFiles: ["tests/setup/integration-file.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

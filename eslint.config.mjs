import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

// Layers point one way: app -> server -> db; lib is a leaf everyone may use; sandbox/ is a separate program
// the app reaches only over HTTP. Type-only imports of the tRPC router type are allowed from lib.
const pattern = (group, message) => ({ group, message });
const layer = (files, patterns, allowTypeImports = false) => ({
  files,
  rules: {
    "no-restricted-imports": "off",
    "@typescript-eslint/no-restricted-imports": ["error", { patterns: patterns.map((p) => ({ ...p, allowTypeImports })) }],
  },
});

const noSandbox = pattern(["@/sandbox/*", "**/sandbox/*"], "The app reaches the sandboxes over HTTP only.");
const noApp = pattern(["@/app/*", "**/app/*"], "Nothing imports from app/: it is the outermost layer.");

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([".next/**", ".data/**", "node_modules/**", "next-env.d.ts", "bench/results/**", "tests/e2e/artifacts/**"]),
  layer(["app/**"], [noSandbox, pattern(["@/db", "@/db/*", "**/db/*"], "app/ calls server/, which owns the database.")]),
  layer(["server/**"], [noSandbox, noApp]),
  layer(["db/**"], [
    noSandbox,
    noApp,
    pattern(["@/server/*", "**/server/*"], "db/ knows nothing of the business layer."),
    pattern(["next", "next/*", "next-auth", "next-auth/*", "stripe", "@upstash/*", "react"], "db/ knows nothing of Next, auth, Stripe, Redis or UI."),
  ]),
  layer(
    ["lib/**"],
    [noSandbox, noApp, pattern(["@/server/*", "@/db", "@/db/*"], "lib/ is a leaf; only the tRPC router's type may come from server/.")],
    true,
  ),
  // Sandboxes are standalone programs; the one app module they share is lib/local-services (ports, sandbox keys).
  layer(["sandbox/**"], [pattern(["@/*", "**/app/*", "**/server/*", "**/db/*", "**/lib/*", "!**/lib/local-services"], "Sandboxes are standalone programs.")]),
  // Outside a sandbox, only its public entry (sandbox/stripe, sandbox/upstash) and its test fixtures may be imported.
  layer(
    ["scripts/**", "tests/**", "bench/**"],
    [{ regex: "^(@/|(\\.\\./)+)sandbox/(stripe|upstash)/(?!tests/)", message: "Import a sandbox through its public entry (sandbox/stripe, sandbox/upstash)." }],
  ),
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
]);

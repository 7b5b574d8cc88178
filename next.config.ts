import type { NextConfig } from "next";
// Importing the environment here makes `next build` fail on a bad variable, naming it.
import { env } from "./lib/env";

const production = env.NODE_ENV === "production";

// Content-Security-Policy, static (set here, so the prerendered pages stay prerendered). Next's App Router writes
// its bootstrap payload as inline <script> tags (self.__next_f.push) into every page; without a per-request nonce
// those only run under 'unsafe-inline', and a nonce (proxy.ts) forces every page to render dynamically on each
// request. Next's own guide gives this static policy for apps that keep static rendering. What it still does:
// scripts, styles, images, fonts and connections only from this origin (no third-party host can be injected),
// no plugins (object-src), no <base> hijack, no framing (frame-ancestors), and React escapes all rendered text
// (the app has no dangerouslySetInnerHTML), which is the inline-script vector 'unsafe-inline' leaves open.
// Development adds 'unsafe-eval', which React's dev tooling needs. If you add third-party scripts or switch to
// nonces, change it here.
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${production ? "" : " 'unsafe-eval'"}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  ...(production && env.APP_URL.startsWith("https://") ? ["upgrade-insecure-requests"] : []),
].join("; ");

const securityHeaders = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  {
    key: "Permissions-Policy",
    value: "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), browsing-topics=()",
  },
  // Browsers honour HSTS only over HTTPS; a production deployment is expected to be served over it.
  ...(production ? [{ key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" }] : []),
];

const nextConfig: NextConfig = {
  // `next build` also writes .next/standalone: server.js with only the node_modules it traced, the base of the
  // Docker image (`node server.js`, see Dockerfile). `next start` keeps working from the same build.
  output: "standalone",
  // The embedded database migrates from db/migrations at run time (process.cwd() is the standalone folder there).
  outputFileTracingIncludes: { "/**": ["./db/migrations/**/*"] },
  // PGlite loads its WebAssembly and data files from its own package folder at run time.
  serverExternalPackages: ["@electric-sql/pglite", "postgres"],
  typedRoutes: false,
  poweredByHeader: false,
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;

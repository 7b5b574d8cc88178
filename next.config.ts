import type { NextConfig } from "next";
// Importing the environment here makes `next build` fail on a bad variable, naming it.
import "./lib/env";

const nextConfig: NextConfig = {
  // PGlite loads its WebAssembly and data files from its own package folder at run time.
  serverExternalPackages: ["@electric-sql/pglite", "postgres"],
  typedRoutes: false,
};

export default nextConfig;

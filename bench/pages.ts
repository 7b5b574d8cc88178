// Pages: first-load JS per route, read from the build output (root main files + the route's layout and page client
// entry chunks, gzipped), whether the route is prerendered, and time to first byte against the trivial route.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { log } from "./context";
import { median, round } from "./stats";

export interface PageFigures {
  firstLoadJsGzipKb: number;
  files: number;
  prerendered: boolean;
}

/** Median TTFB (of medians over 100 requests) per URL, the URLs alternated run by run. */
export async function measureTtfb(get: (url: string) => Promise<{ ttfbMs: number }>, urls: string[], runs: number): Promise<number[]> {
  const perUrl = urls.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (const [index, url] of urls.entries()) {
      const samples: number[] = [];
      for (let i = 0; i < 100; i++) samples.push((await get(url)).ttfbMs);
      perUrl[index]?.push(median(samples));
    }
  }
  return perUrl.map(median);
}

export function measureFirstLoadJs(routes: string[]): Record<string, PageFigures> {
  const buildManifest = JSON.parse(fs.readFileSync(".next/build-manifest.json", "utf8")) as { rootMainFiles?: string[] };
  const prerender = JSON.parse(fs.readFileSync(".next/prerender-manifest.json", "utf8")) as { routes: Record<string, unknown> };
  const gz = (file: string) => zlib.gzipSync(fs.readFileSync(path.join(".next", file))).length;
  const pages: Record<string, PageFigures> = {};
  for (const route of routes) {
    const manifestFile = pageManifestFile(route);
    const holder = globalThis as typeof globalThis & { __RSC_MANIFEST?: Record<string, { entryJSFiles?: Record<string, string[]> }> };
    holder.__RSC_MANIFEST = {};
    new Function("self", "globalThis", fs.readFileSync(manifestFile, "utf8"))(holder, holder);
    const entry = Object.entries(holder.__RSC_MANIFEST).find(([key]) => key.replace(/\/\([^)]*\)/g, "") === `${route}/page`)?.[1];
    if (!entry?.entryJSFiles) throw new Error(`${manifestFile} has no entry files for ${route}/page`);
    const files = new Set<string>([...(buildManifest.rootMainFiles ?? [])]);
    for (const [segment, list] of Object.entries(entry.entryJSFiles)) {
      // The route's manifest holds its own chain: the page and every layout above it (route groups included).
      if (segment.endsWith("/page") || segment.endsWith("/layout")) for (const file of list) files.add(file);
    }
    const bytes = [...files].reduce((sum, file) => sum + gz(file), 0);
    pages[route] = { firstLoadJsGzipKb: bytes / 1024, files: files.size, prerendered: route in prerender.routes };
    log(`page ${route}: first-load JS ${round(bytes / 1024, 1)} kB gzipped (${files.size} files), prerendered ${route in prerender.routes}`);
  }
  return pages;
}

/** The client reference manifest of a page, wherever route groups put it under .next/server/app. */
function pageManifestFile(route: string): string {
  const root = ".next/server/app";
  const found = fs
    .readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith("page_client-reference-manifest.js"))
    .find((file) => `/${path.dirname(file)}`.replace(/\/\([^)]*\)/g, "") === route);
  if (!found) throw new Error(`no client reference manifest for ${route} in ${root}`);
  return path.join(root, found);
}

// The bench's report: bench/results/<date>.md, from the figures run.ts collected.
import type { BudgetFigures } from "./budget";
import type { DevStartup } from "./dev-startup";
import type { PageFigures } from "./pages";
import { round, type RunResult } from "./stats";
import { stormMarkdown, type StormResults } from "./storm";
import type { WebhookFigures } from "./webhooks";

export interface Target {
  target: string;
  value: unknown;
  met: boolean | null;
}

export function markdown(results: Record<string, unknown>): string {
  const r = results as {
    date: string;
    services: Record<string, string>;
    machine: Record<string, unknown>;
    runs: number;
    webhooks: { byConcurrency: Record<string, WebhookFigures>; mismatches: number; handledEventMix: Record<string, number> };
    budget: { stores: Record<string, BudgetFigures>; redisPing: { c1: RunResult; c16: RunResult } | string };
    chat: {
      store: string;
      withBudget: RunResult;
      noopStore: RunResult;
      overheadP50Ms: number;
      overheadP99Ms: number;
      metered?: RunResult;
      meteredOverheadP50Ms?: number;
      overHttp: RunResult;
    };
    pages: { routes: Record<string, PageFigures>; pricingTtfbP50Ms: number; trivialRouteTtfbP50Ms: number };
    devStartup: string | DevStartup;
    targets: Target[];
    storm?: StormResults;
    parts: string[];
  };
  const n = (value: number, digits = 2) => (Number.isFinite(value) ? round(value, digits).toString() : "n/a");
  const mainLines = () => [
    "## 1. Webhooks (signed, re-read from the sandbox) vs the trivial route `GET /api/health`",
    "",
    `Event mix: ${Object.entries(r.webhooks.handledEventMix).map(([type, count]) => `${type} ${count}`).join(", ")}. Mismatches between database and sandbox afterwards: **${r.webhooks.mismatches}**.`,
    "",
    "Events are posted in the order Stripe emitted them (a customer's events come together, as a checkout's four or five do), and once interleaved so no two neighbours concern one customer. A read of a customer in flight serves every event that arrived before it began: Stripe reads per event shows how often.",
    "",
    "| concurrency (event order) | events/s | p50 ms | p95 ms | p99 ms | ceiling req/s | ceiling p50 ms | ratio | Stripe reads per event |",
    "|---|---|---|---|---|---|---|---|---|",
    ...Object.entries(r.webhooks.byConcurrency).map(([c, w]) => `| ${c.slice(1).replace(" interleaved", " (interleaved)")} | ${n(w.events.opsPerSec, 0)} | ${n(w.events.p50)} | ${n(w.events.p95)} | ${n(w.events.p99)} | ${n(w.ceiling.opsPerSec, 0)} | ${n(w.ceiling.p50)} | ${n(w.ratio)} | ${n(w.stripeReadsPerEvent)} |`),
    "",
    "## 2. Budget reserve + settle vs a bare Redis PING (ioredis, same process)",
    "",
    "| store | c=1 p50 ms | c=1 p99 ms | c=16 ops/s | p50 / PING p50 | ops/s / PING ops/s | overspend (tokens) |",
    "|---|---|---|---|---|---|---|",
    ...Object.entries(r.budget.stores).map(([name, b]) => `| ${name} | ${n(b.c1.p50, 3)} | ${n(b.c1.p99, 3)} | ${n(b.c16.opsPerSec, 0)} | ${b.ratioToPing ? n(b.ratioToPing.p50) : "n/a"} | ${b.ratioToPing ? n(b.ratioToPing.opsPerSecC16) : "n/a"} | ${b.overspend.overspendTokens} |`),
    typeof r.budget.redisPing === "string" ? `| Redis PING | ${r.budget.redisPing} | | | | | |` : `| Redis PING (reference) | ${n(r.budget.redisPing.c1.p50, 3)} | ${n(r.budget.redisPing.c1.p99, 3)} | ${n(r.budget.redisPing.c16.opsPerSec, 0)} | 1 | 1 | |`,
    "",
    `## 3. Chat request overhead (handleChatRequest, demo model at 0 delay, ${r.chat.store} store vs a no-op store)`,
    "",
    "| | p50 ms | p99 ms |",
    "|---|---|---|",
    `| with the budget | ${n(r.chat.withBudget.p50)} | ${n(r.chat.withBudget.p99)} |`,
    `| no-op store | ${n(r.chat.noopStore.p50)} | ${n(r.chat.noopStore.p99)} |`,
    `| overhead | ${n(r.chat.overheadP50Ms)} | ${n(r.chat.overheadP99Ms)} |`,
    ...(r.chat.metered
      ? [
          `| large model (weights 4/16), paid from a credit pack, turn saved to history | ${n(r.chat.metered.p50)} | ${n(r.chat.metered.p99)} |`,
          `| its overhead over the no-op store | ${n(r.chat.meteredOverheadP50Ms ?? NaN)} | |`,
          // What metering adds by itself, over the seed's budget path in the same run (a reading, not a target).
          `| its overhead over the budget path (what metering adds) | ${n(r.chat.metered.p50 - r.chat.withBudget.p50)} | |`,
        ]
      : []),
    "",
    `The whole route for comparison, \`POST /api/chat\` over HTTP on the production server (session cookie, entitlement from the database, the same store, the answer read to its end): p50 ${n(r.chat.overHttp.p50)} ms, p99 ${n(r.chat.overHttp.p99)} ms. The budget's share cannot be switched off there without a test-only branch in the route, hence the in-process pair above.`,
    "",
    "## 4. Pages (first-load JS: root main files + layout and page client entry chunks, gzipped)",
    "",
    "| route | first-load JS kB | prerendered |",
    "|---|---|---|",
    ...Object.entries(r.pages.routes).map(([route, p]) => `| ${route} | ${n(p.firstLoadJsGzipKb, 1)} | ${p.prerendered ? "yes" : "no"} |`),
    "",
    `TTFB p50: /pricing ${n(r.pages.pricingTtfbP50Ms)} ms vs the trivial route ${n(r.pages.trivialRouteTtfbP50Ms)} ms (ratio ${n(r.pages.pricingTtfbP50Ms / r.pages.trivialRouteTtfbP50Ms)}).`,
    "",
    "## 5. Start-up",
    "",
    typeof r.devStartup === "string"
      ? r.devStartup
      : `\`npm run dev\` to the first 200 on /: cold .next/dev ${n(r.devStartup.coldMs, 0)} ms, warm ${n(r.devStartup.warmMs, 0)} ms (cold / warm ${n(r.devStartup.ratio)}).`,
    "",
  ];
  const lines = [
    `# Hourglass bench, ${r.date.slice(0, 10)}`,
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}. Database: ${r.services.database}. Budget store: ${r.services.budgetStore}. Stripe: ${r.services.stripe}. Parts run: ${r.parts.join(", ")}. ${r.parts.includes("main") ? `Each main figure is the median of ${r.runs} runs; every` : "Every"} reference is measured in the same run.`,
    "",
    "## Targets",
    "",
    "| target | value | met |",
    "|---|---|---|",
    ...r.targets.map((t) => `| ${t.target} | ${typeof t.value === "number" ? n(t.value) : String(t.value)} | ${t.met === null ? "not measured" : t.met ? "yes" : "**no**"} |`),
    "",
    ...(r.storm ? stormMarkdown(r.storm) : []),
    ...(r.webhooks ? mainLines() : []),
  ];
  return lines.join("\n");
}

// `npm run stripe:replay -- --since <date>`: after a webhook outage longer than Stripe's retries, processes every
// event Stripe could not deliver since <date> (at most 30 days back) through the webhook route's own path, oldest
// first. Safe to repeat: events already recorded are counted as "already done" and change nothing.
// The JSON log shows warnings and errors only unless LOG_LEVEL says otherwise, so the summary stays readable.
import { parseArgs } from "node:util";

process.env.LOG_LEVEL ||= "warn";

let since: string | undefined;
try {
  ({ values: { since } } = parseArgs({ options: { since: { type: "string" } }, strict: true }));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\nUsage: npm run stripe:replay -- --since 2026-11-30`);
  process.exit(2);
}

const { parseReplaySince, replayUndeliveredEvents, ReplayInputError } = await import("../server/ops/stripe-replay");
let from: Date;
try {
  from = parseReplaySince(since);
} catch (error) {
  console.error(error instanceof ReplayInputError ? error.message : error);
  process.exit(2);
}

const { closeDatabase } = await import("../db/index");
console.log(`Replaying events Stripe could not deliver since ${from.toISOString()}, oldest first.`);
const report = await replayUndeliveredEvents(from, {
  onEvent: (event) => console.log(`${event.id}  ${event.type}  ${event.outcome}${event.error ? `: ${event.error}` : ""}`),
});
console.log(`${report.processed} processed, ${report.alreadyDone} already done, ${report.ignored} ignored, ${report.failed} failed`);
await closeDatabase();
process.exit(report.failed > 0 ? 1 : 0);

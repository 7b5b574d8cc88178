// The process's email deliverer: started once with the server (instrumentation.ts, for `next dev` and `next start`
// alike), it sends due outbox emails every few seconds, and at once when kicked after a commit that enqueued some.
// Rows live in the database, so emails enqueued before a restart are delivered after it.
import { getDb } from "@/db/index";
import { startPeriodicWorker, kickPeriodicWorker, type PeriodicWorker } from "@/server/ops/periodic-worker";
import { deliverDueEmails, type DeliveryDeps } from "./outbox";
import { createSmtpMailer } from "./transport";

const WORKER = "mail";

export function startEmailDeliverer(options: { intervalMs?: number; deps?: () => Promise<DeliveryDeps> } = {}): PeriodicWorker {
  const resolveDeps = options.deps ?? (async () => ({ db: await getDb(), mailer: createSmtpMailer() }));
  return startPeriodicWorker(WORKER, async () => deliverDueEmails(await resolveDeps()), options.intervalMs ?? 5_000);
}

/** Call after committing a transaction that enqueued email: delivers now instead of at the next tick. */
export function kickEmailDelivery(): void {
  kickPeriodicWorker(WORKER);
}

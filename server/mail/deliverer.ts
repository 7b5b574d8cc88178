// The process's email deliverer: started once with the server (instrumentation.ts, for `next dev` and `next start`
// alike), it sends due outbox emails every few seconds, and at once when kicked after a commit that enqueued some.
// Rows live in the database, so emails enqueued before a restart are delivered after it.
import { getDb } from "@/db/index";
import { env } from "@/lib/env";
import { deliverDueEmails, type DeliveryDeps } from "./outbox";
import { createSmtpMailer } from "./transport";

interface Deliverer {
  kick(): void;
  stop(): void;
}

const holder = globalThis as typeof globalThis & { __hourglassMailDeliverer?: Deliverer };

export function startEmailDeliverer(options: { intervalMs?: number; deps?: () => Promise<DeliveryDeps> } = {}): Deliverer {
  if (holder.__hourglassMailDeliverer) return holder.__hourglassMailDeliverer;
  // `next build` runs the hook in its page workers too; they must not open the database or send anything.
  if (env.NEXT_PHASE === "phase-production-build") return { kick: () => {}, stop: () => {} };
  const resolveDeps = options.deps ?? (async () => ({ db: await getDb(), mailer: createSmtpMailer() }));
  let running = false;
  let again = false;
  let stopped = false;

  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await deliverDueEmails(await resolveDeps());
      } while (again && !stopped);
    } catch (error) {
      // The database may be down; the next tick tries again.
      console.error("[mail] outbox delivery failed", error);
    } finally {
      running = false;
    }
  };

  const timer = setInterval(() => void run(), options.intervalMs ?? 5_000);
  timer.unref();
  const deliverer: Deliverer = {
    kick: () => void run(),
    stop: () => {
      stopped = true;
      clearInterval(timer);
      if (holder.__hourglassMailDeliverer === deliverer) holder.__hourglassMailDeliverer = undefined;
    },
  };
  holder.__hourglassMailDeliverer = deliverer;
  void run();
  return deliverer;
}

/** Call after committing a transaction that enqueued email: delivers now instead of at the next tick. */
export function kickEmailDelivery(): void {
  holder.__hourglassMailDeliverer?.kick();
}

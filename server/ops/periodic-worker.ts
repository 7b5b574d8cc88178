// A background job started once per process with the server (instrumentation.ts): it runs every few seconds, and at
// once when kicked after a commit that gave it work. Runs never overlap: a kick during a run makes one more run after
// it. A failed run (the database down) is logged and the next tick tries again. The outboxes' deliverers use it.
import { env } from "@/lib/env";

export interface PeriodicWorker {
  kick(): void;
  stop(): void;
}

const holder = globalThis as typeof globalThis & { __hourglassWorkers?: Map<string, PeriodicWorker> };
const workers = (holder.__hourglassWorkers ??= new Map<string, PeriodicWorker>());

export function startPeriodicWorker(name: string, work: () => Promise<unknown>, intervalMs: number): PeriodicWorker {
  const existing = workers.get(name);
  if (existing) return existing;
  // `next build` runs the hook in its page workers too; they must not open the database or send anything.
  if (env.NEXT_PHASE === "phase-production-build") return { kick: () => {}, stop: () => {} };
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
        await work();
      } while (again && !stopped);
    } catch (error) {
      console.error(`[${name}] background run failed`, error);
    } finally {
      running = false;
    }
  };

  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  const worker: PeriodicWorker = {
    kick: () => void run(),
    stop: () => {
      stopped = true;
      clearInterval(timer);
      if (workers.get(name) === worker) workers.delete(name);
    },
  };
  workers.set(name, worker);
  void run();
  return worker;
}

/** Runs the named worker now instead of at its next tick; nothing when it was not started in this process. */
export function kickPeriodicWorker(name: string): void {
  workers.get(name)?.kick();
}

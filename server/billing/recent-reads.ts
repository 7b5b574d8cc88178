// Per process: when the latest read of each customer's subscriptions from Stripe began, and whether the
// transaction around it committed. Syncs of one customer read while holding the customer's row lock, so their
// reads are ordered; a sync that gets the lock after a committed read which began after its own news arrived has
// nothing new to learn. Syncs in other processes are not known here: they cost a read, never correctness.
import { performance } from "node:perf_hooks";

interface Read {
  startedAt: number;
  committed: Promise<boolean>;
}

const latest = new Map<string, Read>();
const CUSTOMERS_KEPT = 10_000;
// The lock is only granted once the reading transaction has ended, so its outcome is due at once; this bounds the
// wait should a driver never report it (a dropped connection it did not notice).
const OUTCOME_WAIT_MS = 1_000;

/** Notes that a read of this customer starts now; call the returned function once its transaction has ended. */
export function beginRead(customerId: string): (committed: boolean) => void {
  let settle: (committed: boolean) => void = () => {};
  const committed = new Promise<boolean>((resolve) => (settle = resolve));
  latest.delete(customerId); // re-inserted last, so the Map's first key is the customer seen longest ago
  latest.set(customerId, { startedAt: performance.now(), committed });
  if (latest.size > CUSTOMERS_KEPT) {
    const oldest = latest.keys().next();
    if (!oldest.done) latest.delete(oldest.value);
  }
  return settle;
}

/** True when a read of this customer that began after `moment` (a performance.now() value) was committed. */
export async function hasCommittedReadSince(customerId: string, moment: number): Promise<boolean> {
  const read = latest.get(customerId);
  if (!read || read.startedAt <= moment) return false;
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, OUTCOME_WAIT_MS, false)));
  try {
    return await Promise.race([read.committed, givenUp]);
  } finally {
    clearTimeout(timer);
  }
}

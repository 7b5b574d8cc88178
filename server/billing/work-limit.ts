// Bounds how much billing work one process runs at once, so a storm of webhooks queues here holding nothing
// (no connection, no event-loop turns) instead of crowding the connection pool and the event loop that pages share.
// Waiters are served first come, first served.

export interface WorkLimit {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createWorkLimit(slots: number): WorkLimit {
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(work) {
      if (running >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
      else running += 1;
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next(); // the slot passes on as it is
        else running -= 1;
      }
    },
  };
}

/**
 * The database and CPU stages of webhooks and syncs (verify, look up, write): a few at a time, leaving most of the
 * pool of 10 connections to pages and chat.
 */
export const billingWork = createWorkLimit(4);

/** Stripe reads in flight (waiting on Stripe costs nothing but a socket): enough to keep a 250 ms Stripe busy. */
export const stripeReadSlots = createWorkLimit(24);

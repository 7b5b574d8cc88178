// Coalesces the Stripe reads of one customer within this process: a read in flight serves every sync whose news
// arrived before the read began (Stripe made the change before it sent the event, so that read includes it). A
// sync whose news arrived after the read began waits for the next read, which starts when the current one ends
// and serves everyone who arrived meanwhile. So a burst of events about one customer costs one or two reads,
// however many events it holds. Reads also take a slot of a per-process limit (work-limit.ts).
import type Stripe from "stripe";
import { performance } from "node:perf_hooks";
import type { PaymentDue, ScheduledPlanChange, SubscriptionState } from "@/db/queries/billing";
import type { RetiredDuplicate } from "./duplicate-subscriptions";
import { stripeReadSlots } from "./work-limit";

/** What a sync learned from one read: its stamp, the state, and whether its refill applied. */
export interface CustomerRead {
  stamp: number;
  state: SubscriptionState;
  budgetReset: boolean;
  /** The subscription the state was taken from (latest invoice expanded), for the billing emails; null when none. */
  subscription?: Stripe.Subscription | null;
  /** Subscriptions retired as duplicates of the live one (canceled and refunded), to record. */
  duplicates?: RetiredDuplicate[];
  /** The plan change the subscription has scheduled for its period end; none when omitted. */
  scheduled?: ScheduledPlanChange;
  /** The invoice the subscription is past due on; nothing owed when omitted. */
  due?: PaymentDue;
}

interface Read {
  /** performance.now() when the read began, or null while it waits for the read before it. */
  startedAt: number | null;
  result: Promise<CustomerRead>;
}

interface Reads {
  current: Read | null;
  next: Read | null;
}

/** Reads in flight by client and budget store (tests pass their own), then by customer. */
const inFlight = new WeakMap<object, WeakMap<object, Map<string, Reads>>>();

function readsOf(client: object, store: object): Map<string, Reads> {
  let byStore = inFlight.get(client);
  if (!byStore) inFlight.set(client, (byStore = new WeakMap()));
  let byCustomer = byStore.get(store);
  if (!byCustomer) byStore.set(store, (byCustomer = new Map()));
  return byCustomer;
}

/**
 * A read of `customerId` that began after `arrivedAt` (performance.now()): the one in flight when it began later,
 * else the next one. `read` performs a read; it runs at most once per call here that starts one.
 */
export function readOnce(
  client: object,
  store: object,
  customerId: string,
  arrivedAt: number,
  read: () => Promise<CustomerRead>,
): Promise<CustomerRead> {
  const byCustomer = readsOf(client, store);
  let reads = byCustomer.get(customerId);
  if (!reads) byCustomer.set(customerId, (reads = { current: null, next: null }));
  const { current } = reads;
  if (current && (current.startedAt === null || current.startedAt > arrivedAt)) return current.result;
  if (reads.next) return reads.next.result;

  let settle: { resolve(value: CustomerRead): void; reject(error: unknown): void } | undefined;
  const result = new Promise<CustomerRead>((resolve, reject) => (settle = { resolve, reject }));
  const entry: Read = { startedAt: null, result };
  const own = reads;
  // Waiting for a slot counts as not begun: syncs arriving meanwhile share this read.
  const begin = () =>
    stripeReadSlots.run(() => {
      own.current = entry;
      if (own.next === entry) own.next = null;
      entry.startedAt = performance.now();
      return read();
    });
  if (current) own.next = entry;
  else own.current = entry;
  (current ? current.result.then(begin, begin) : begin())
    .finally(() => {
      if (own.current === entry) own.current = null;
      if (!own.current && !own.next && byCustomer.get(customerId) === own) byCustomer.delete(customerId);
    })
    .then(
      (value) => settle?.resolve(value),
      (error: unknown) => settle?.reject(error),
    );
  return result;
}


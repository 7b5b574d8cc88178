// Shared reads of one customer: a read in flight serves syncs that arrived before it began; later arrivals share
// the next read, which starts when the current one ends. And the per-process work limit keeps to its slots.
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { readOnce, type CustomerRead } from "@/server/billing/stripe-reads";
import { createWorkLimit } from "@/server/billing/work-limit";

const state = {
  stripeSubscriptionId: null,
  stripePriceId: null,
  stripeCurrentPeriodEnd: null,
  planActive: false,
  planExpires: null,
  planId: null,
  subscriptionStatus: null,
  cancelAt: null,
  billingInterval: null,
  billingAnchor: null,
  trialEndsAt: null,
  stripeOverageLookupKey: null,
};

/** A read that answers when released, numbered in the order reads began. */
function reads() {
  const releases: Array<() => void> = [];
  let begun = 0;
  const read = () => {
    const stamp = ++begun;
    return new Promise<CustomerRead>((resolve) => releases.push(() => resolve({ stamp, state, budgetReset: false })));
  };
  const releaseNext = async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    releases.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { read, releaseNext, begun: () => begun };
}

describe("readOnce", () => {
  it("serves everyone who arrived before the read began, and one next read for everyone after", async () => {
    const client = {};
    const store = {};
    const r = reads();
    const arrivedEarly = performance.now();
    const first = readOnce(client, store, "cus_1", arrivedEarly, r.read);
    const sameNews = readOnce(client, store, "cus_1", arrivedEarly, r.read); // arrived before the read began
    await new Promise((resolve) => setTimeout(resolve, 5));
    const late1 = readOnce(client, store, "cus_1", performance.now(), r.read); // arrived while it was in flight
    const late2 = readOnce(client, store, "cus_1", performance.now(), r.read);
    expect(r.begun()).toBe(1);
    await r.releaseNext();
    expect((await first).stamp).toBe(1);
    expect((await sameNews).stamp).toBe(1);
    expect(r.begun()).toBe(2); // the next read began once the first ended
    await r.releaseNext();
    expect([(await late1).stamp, (await late2).stamp]).toEqual([2, 2]);
  });

  it("keeps customers, clients and stores apart, and a failed read fails only those who shared it", async () => {
    const r = reads();
    const a = readOnce({}, {}, "cus_a", performance.now(), r.read);
    const b = readOnce({}, {}, "cus_a", performance.now(), r.read);
    expect(r.begun()).toBe(2);
    await r.releaseNext();
    await r.releaseNext();
    expect([(await a).stamp, (await b).stamp].sort()).toEqual([1, 2]);

    const client = {};
    const store = {};
    const failing = readOnce(client, store, "cus_b", performance.now(), () => Promise.reject(new Error("Stripe down")));
    await expect(failing).rejects.toThrow("Stripe down");
    const after = readOnce(client, store, "cus_b", performance.now(), r.read);
    await r.releaseNext();
    expect((await after).stamp).toBe(3);
  });
});

describe("createWorkLimit", () => {
  it("runs at most its slots at once, first come first served, and frees a slot on failure", async () => {
    const limit = createWorkLimit(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (i: number) =>
      limit.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        order.push(i);
        if (i === 0) throw new Error("failed job");
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(job));
    expect(peak).toBe(2);
    expect(results.filter((result) => result.status === "rejected")).toHaveLength(1);
    expect(order.slice(2)).toEqual([2, 3, 4, 5]);
  });
});

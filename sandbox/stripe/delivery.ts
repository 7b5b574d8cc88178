// Webhook delivery as Stripe does it: every event to every endpoint that wants it, signed with the endpoint's secret,
// one delivery at a time per endpoint in event order, retried with exponential backoff on a non-2xx answer, a timeout
// or a connection error, up to a bounded number of attempts. A failing event does not hold back later ones.
// Faults (duplicate, shuffle, delay, pause) exist so the app's reliability tests can provoke what Stripe may do.
import { createHmac } from "node:crypto";
import type Stripe from "stripe";
import { realNow, type DeliveryRecord, type SandboxState } from "./state";

export interface DeliveryEndpoint {
  id: string;
  url: string;
  secret: string;
  enabledEvents: string[];
}

export interface Faults {
  duplicate: number;
  shuffle: boolean;
  delayMs: number;
  pauseDeliveries: boolean;
}

export const NO_FAULTS: Faults = { duplicate: 1, shuffle: false, delayMs: 0, pauseDeliveries: false };

interface QueueItem {
  eventId: string;
  record: DeliveryRecord;
}

export function signPayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

export class Deliveries {
  faults: Faults = { ...NO_FAULTS };
  private readonly queues = new Map<string, QueueItem[]>();
  private readonly running = new Set<string>();
  private readonly wakers = new Set<() => void>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly options: {
      state: () => SandboxState;
      endpoints: () => DeliveryEndpoint[];
      retryBaseMs: number;
      maxAttempts: number;
      timeoutMs: number;
      onChange: () => void;
    },
  ) {}

  enqueue(event: Stripe.EventBase): void {
    const state = this.options.state();
    const records: DeliveryRecord[] = [];
    const matching = this.options.endpoints().filter((e) => e.enabledEvents.includes("*") || e.enabledEvents.includes(event.type));
    for (const endpoint of matching) {
      for (let copy = 0; copy < Math.max(1, this.faults.duplicate); copy++) {
        const record: DeliveryRecord = {
          endpoint: endpoint.id,
          url: endpoint.url,
          attempts: 0,
          state: "pending",
          lastStatus: null,
          lastError: null,
          nextAttemptAt: null,
        };
        records.push(record);
        this.push(endpoint.id, { eventId: event.id, record });
      }
    }
    state.deliveries[event.id] = records;
    event.pending_webhooks = matching.length;
    for (const endpoint of matching) this.kick(endpoint.id);
  }

  /** After loading saved state: put back every delivery that had not finished. */
  restore(): void {
    const state = this.options.state();
    for (const [eventId, records] of Object.entries(state.deliveries)) {
      for (const record of records) {
        if (record.state === "pending") this.push(record.endpoint, { eventId, record });
      }
    }
    for (const endpointId of this.queues.keys()) this.kick(endpointId);
  }

  setFaults(faults: Partial<Faults>): void {
    this.faults = { ...NO_FAULTS, ...faults };
    if (!this.faults.pauseDeliveries) for (const endpointId of this.queues.keys()) this.kick(endpointId);
  }

  /** Drops every queued delivery (reset). */
  clear(): void {
    this.queues.clear();
    for (const controller of this.inFlight) controller.abort();
    this.wake();
    this.checkIdle();
  }

  isIdle(): boolean {
    if (this.running.size > 0) return false;
    for (const queue of this.queues.values()) if (queue.length > 0) return false;
    return true;
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  pendingCount(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    this.wake();
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 5));
    this.queues.clear();
    this.checkIdle();
  }

  private push(endpointId: string, item: QueueItem): void {
    const queue = this.queues.get(endpointId) ?? [];
    queue.push(item);
    this.queues.set(endpointId, queue);
  }

  private kick(endpointId: string): void {
    if (this.running.has(endpointId) || this.closed) return;
    this.running.add(endpointId);
    void this.work(endpointId).finally(() => {
      this.running.delete(endpointId);
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (!this.isIdle() && !this.closed) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private wake(): void {
    for (const waker of this.wakers) waker();
    this.wakers.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers.add(done);
    });
  }

  private async work(endpointId: string): Promise<void> {
    while (!this.closed && !this.faults.pauseDeliveries) {
      const queue = this.queues.get(endpointId);
      if (!queue || queue.length === 0) return;
      const now = Date.now();
      const due = queue.filter((item) => item.record.nextAttemptAt === null || item.record.nextAttemptAt <= now);
      if (due.length === 0) {
        const next = Math.min(...queue.map((item) => item.record.nextAttemptAt ?? now));
        await this.sleep(Math.max(1, next - now));
        continue;
      }
      const item = this.faults.shuffle ? due[Math.floor(Math.random() * due.length)] : due[0];
      if (!item) return;
      if (this.faults.delayMs > 0) await this.sleep(this.faults.delayMs);
      if (this.closed) return;
      await this.attempt(item);
      if (item.record.state !== "pending") {
        const index = queue.indexOf(item);
        if (index !== -1) queue.splice(index, 1);
      }
      this.options.onChange();
    }
  }

  private async attempt(item: QueueItem): Promise<void> {
    const state = this.options.state();
    const event = state.events[item.eventId];
    const endpoint = this.options.endpoints().find((e) => e.id === item.record.endpoint);
    const { record } = item;
    if (!event || !endpoint) {
      record.state = "failed";
      record.lastError = "The event or the endpoint no longer exists.";
      return;
    }
    record.attempts += 1;
    const payload = JSON.stringify(event, null, 2);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    this.inFlight.add(controller);
    let ok = false;
    try {
      const response = await fetch(endpoint.url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "stripe-signature": signPayload(payload, endpoint.secret, realNow()),
        },
        body: payload,
        signal: controller.signal,
        // Stripe counts a redirect as a failed delivery.
        redirect: "manual",
      });
      await response.arrayBuffer().catch(() => undefined);
      record.lastStatus = response.status;
      record.lastError = null;
      ok = response.status >= 200 && response.status < 300;
      if (!ok) record.lastError = `HTTP ${response.status}`;
    } catch (error) {
      record.lastStatus = null;
      record.lastError = controller.signal.aborted ? "Timed out" : error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
    if (ok) {
      record.state = "succeeded";
      record.nextAttemptAt = null;
    } else if (record.attempts >= this.options.maxAttempts) {
      record.state = "failed";
      record.nextAttemptAt = null;
    } else {
      record.nextAttemptAt = Date.now() + this.options.retryBaseMs * 2 ** (record.attempts - 1);
    }
    const records = state.deliveries[item.eventId] ?? [];
    const endpointsLeft = new Set(records.map((r) => r.endpoint));
    for (const r of records) if (r.state === "succeeded") endpointsLeft.delete(r.endpoint);
    event.pending_webhooks = endpointsLeft.size;
  }
}

// Stripe test clocks move a customer's time forward without the wall clock. Invoices follow by themselves (Stripe
// sends their events), but a yearly plan's monthly budget window has no event: the app finds it at "now". So in test
// mode Hourglass remembers each customer's clock time and finds the window there when it is ahead (see
// budget-window's windowMoment). Live customers have no test clock, and this never runs for them.
import type Stripe from "stripe";
import { advanceTestClockTime } from "@/db/queries/billing";
import type { SyncDeps } from "./sync-subscription";

export interface TestClockFollowed {
  outcome: "test-clock";
  clockId: string;
  /** Users whose clock time moved forward (0 for a replayed or older event). */
  moved: number;
}

/**
 * A clock finished advancing (`test_helpers.test_clock.ready`): its customers (at most three per clock in Stripe)
 * now live at its frozen time. The payload's time is trusted as a lower bound only: the write never moves a time
 * back, so events in any order, or replayed, end at the latest.
 */
export async function followTestClock(
  clock: Stripe.TestHelpers.TestClock,
  deps: Pick<SyncDeps, "stripe" | "db">,
): Promise<TestClockFollowed> {
  const customers = await deps.stripe.customers.list({ test_clock: clock.id, limit: 100 });
  const moved = await advanceTestClockTime(
    deps.db,
    customers.data.map((customer) => customer.id),
    new Date(clock.frozen_time * 1000),
  );
  return { outcome: "test-clock", clockId: clock.id, moved };
}

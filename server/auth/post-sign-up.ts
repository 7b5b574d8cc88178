// The one hook every new user passes through, password sign-ups and OAuth (adapter-created) users alike.
// It schedules background work after the response (`after()`, which is waitUntil on serverless hosts);
// a task that fails is logged and never fails or delays the sign-up. Tasks are data: add a row to plug in.
import { after } from "next/server";
import { ensureStripeCustomer } from "@/server/billing/customers";
import { ensureVerificationEmail } from "./email-verification";

export interface NewUserRef {
  id: string;
  email: string;
}

export type PostSignUpTask = {
  name: string;
  run(user: NewUserRef): Promise<unknown>;
};

/** Runs work after the current response; `after` inside Next, a test's collector in tests. */
export type Scheduler = (work: () => Promise<void>) => void;

export const postSignUpTasks: readonly PostSignUpTask[] = [
  // Also run lazily before Checkout and the Portal, so a Stripe outage here only delays it.
  { name: "stripe-customer", run: (user) => ensureStripeCustomer(user.id) },
  // OAuth sign-ups whose provider did not vouch for the address; password sign-ups got theirs with the account.
  { name: "verification-email", run: (user) => ensureVerificationEmail(user.id) },
];

export function schedulePostSignUp(
  user: NewUserRef,
  { schedule = after, tasks = postSignUpTasks }: { schedule?: Scheduler; tasks?: readonly PostSignUpTask[] } = {},
): void {
  const work = async () => {
    for (const task of tasks) {
      try {
        await task.run(user);
      } catch (error) {
        console.error(`post-sign-up task "${task.name}" failed for user ${user.id}; it will be retried lazily`, error);
      }
    }
  };
  try {
    schedule(work);
  } catch (error) {
    // Outside a request scope `after` throws; the tasks are all lazily retried later, so losing them is safe.
    console.error("could not schedule post-sign-up work", error);
  }
}

/** Auth.js's `createUser` event: the adapter has just stored a new (OAuth) user. Users without an email have no hook. */
export function onAdapterCreatedUser(
  user: { id?: string; email?: string | null },
  options: { schedule?: Scheduler; tasks?: readonly PostSignUpTask[] } = {},
): void {
  if (user.id && user.email) schedulePostSignUp({ id: user.id, email: user.email }, options);
}

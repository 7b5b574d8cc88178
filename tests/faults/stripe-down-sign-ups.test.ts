// Fault 4: the Stripe sandbox is down while people sign up. Sign-ups must succeed (the post-sign-up task that
// creates the Stripe customer fails and is logged); once Stripe is back, checkout (raced against the lazy retry of
// the same task) creates exactly one customer per user.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { afterAll, describe, expect, it, vi } from "vitest";
import { startStripeSandbox, type StripeSandbox } from "../../sandbox/stripe";
import { } from "../support/stripe-harness";
import { inBatches } from "./in-batches";

const stateFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hourglass-faults-stripe-")), "state.json");
let sandbox: StripeSandbox = await startStripeSandbox({ port: 0, stateFile, autoTestClock: true });
const port = sandbox.port;
process.env.STRIPE_API_BASE = sandbox.url;
process.env.STRIPE_WEBHOOK_SECRET = "whsec_fault_suite_stripe_down";
process.env.STRIPE_MAX_NETWORK_RETRIES = "0";
const stripe = new Stripe("sk_test_fault_suite", { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
const { setupStripe } = await import("@/server/billing/setup-stripe");
await setupStripe(stripe);
afterAll(async () => {
  await sandbox.close();
  fs.rmSync(path.dirname(stateFile), { recursive: true, force: true });
});

const { getDb } = await import("@/db/index");
const { users } = await import("@/db/schema");
const { signUp } = await import("@/server/auth/sign-up");
const { postSignUpTasks } = await import("@/server/auth/post-sign-up");
const { ensureStripeCustomer } = await import("@/server/billing/customers");
const { createCheckoutSession } = await import("@/server/billing/checkout");

describe("Stripe is down during sign-ups", () => {
  it("lets everyone sign up, then creates exactly one customer per user once Stripe is back", async () => {
    await sandbox.close();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const background: Array<Promise<void>> = [];
    const signedUp = await inBatches(Array.from({ length: 12 }, (_, i) => i), 6, (index) =>
      signUp(
        { email: `down${index}-${Date.now()}@example.com`, password: "correct horse" },
        { schedule: (work) => background.push(work()), tasks: postSignUpTasks },
      ),
    );
    await Promise.all(background);
    const failures = logged.mock.calls.filter((call) => String(call[0]).includes('post-sign-up task "stripe-customer" failed'));
    logged.mockRestore();
    expect(signedUp).toHaveLength(12);
    expect(failures).toHaveLength(12);
    const db = await getDb();
    for (const user of signedUp) {
      const [row] = await db.select().from(users).where(eq(users.id, user.id));
      expect(row).toMatchObject({ email: user.email, stripeCustomerId: null });
    }

    // Stripe comes back on the same address with its state; every user hits checkout three times at once while
    // the lazy post-sign-up retry runs too.
    sandbox = await startStripeSandbox({ port, stateFile, autoTestClock: true });
    await inBatches(signedUp, 4, async (user) => {
      const results = await Promise.all([
        createCheckoutSession(user.id, { plan: "starter" }),
        createCheckoutSession(user.id, { plan: "pro" }),
        ensureStripeCustomer(user.id),
        createCheckoutSession(user.id, { plan: "starter" }),
      ]);
      for (const result of results) if (typeof result !== "string") expect(result.kind).toBe("checkout");
    });
    for (const user of signedUp) {
      const customers = await stripe.customers.list({ email: user.email, limit: 100 });
      expect(customers.data).toHaveLength(1);
      const [row] = await db.select().from(users).where(eq(users.id, user.id));
      expect(row?.stripeCustomerId).toBe(customers.data[0]?.id);
    }
  });
});

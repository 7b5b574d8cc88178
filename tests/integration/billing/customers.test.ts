// One Stripe customer per user whatever the timing, ownership of Checkout and Portal, and account deletion.
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { describe, expect, it, vi } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const { getDb, users, stripeEvents, getBudgetStore, signUp, ensureStripeCustomer, createCheckoutSession, createPortalSession, deleteAccount, postSignUpTasks } =
  await loadApp();
const { stripe } = harness;

let counter = 0;
const email = () => `customer${++counter}-${Date.now()}@example.com`;

describe("ensureStripeCustomer", () => {
  it("creates the customer in the background of sign-up, tagged with the user id", async () => {
    const pending: Array<() => Promise<void>> = [];
    const user = await signUp({ email: email(), password: "correct horse" }, { schedule: (work) => void pending.push(work), tasks: postSignUpTasks });
    await Promise.all(pending.map((work) => work()));
    const [row] = await (await getDb()).select().from(users).where(eq(users.id, user.id));
    expect(row?.stripeCustomerId).toMatch(/^cus_/);
    const customer = await stripe.customers.retrieve(row!.stripeCustomerId!);
    expect(customer.deleted).not.toBe(true);
    if (!customer.deleted) expect(customer).toMatchObject({ email: user.email, metadata: { userId: user.id } });
  });

  it("creates exactly one customer when called many times at once", async () => {
    const user = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const ids = await Promise.all(Array.from({ length: 8 }, () => ensureStripeCustomer(user.id)));
    expect(new Set(ids).size).toBe(1);
    const customers = await stripe.customers.list({ email: user.email });
    expect(customers.data).toHaveLength(1);
  });

  it("lets sign-up succeed while Stripe is unreachable, and creates one customer later at checkout", async () => {
    const unreachable = new Stripe("sk_test_x", { host: "127.0.0.1", port: 9, protocol: "http", maxNetworkRetries: 0 });
    const pending: Array<() => Promise<void>> = [];
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const user = await signUp(
      { email: email(), password: "correct horse" },
      {
        schedule: (work) => void pending.push(work),
        tasks: [{ name: "stripe-customer", run: (created) => ensureStripeCustomer(created.id, { stripe: unreachable }) }],
      },
    );
    await Promise.all(pending.map((work) => work()));
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"stripe-customer" failed'), expect.anything());
    errors.mockRestore();
    const [before] = await (await getDb()).select().from(users).where(eq(users.id, user.id));
    expect(before?.stripeCustomerId).toBeNull();

    const [first, second] = await Promise.all([
      createCheckoutSession(user.id, { plan: "starter" }),
      createCheckoutSession(user.id, { plan: "pro" }),
    ]);
    expect(first?.kind).toBe("checkout");
    expect(second?.kind).toBe("checkout");
    const customers = await stripe.customers.list({ email: user.email });
    expect(customers.data).toHaveLength(1);
    expect(customers.data[0]?.metadata).toEqual({ userId: user.id });
  });

  it("reuses a customer already tagged with the user id instead of creating another", async () => {
    const user = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const earlier = await stripe.customers.create({ email: user.email, metadata: { userId: user.id } });
    expect(await ensureStripeCustomer(user.id)).toBe(earlier.id);
    expect((await stripe.customers.list({ email: user.email })).data).toHaveLength(1);
  });
});

describe("ownership", () => {
  it("opens Checkout and the Portal only on the caller's own customer", async () => {
    const alice = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const bob = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const aliceCustomer = await ensureStripeCustomer(alice.id);
    const bobCustomer = await ensureStripeCustomer(bob.id);

    const checkout = await createCheckoutSession(bob.id, { plan: "starter" });
    const sessionId = new URL(checkout.url).pathname.split("/").pop() ?? "";
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    expect(session).toMatchObject({
      customer: bobCustomer,
      client_reference_id: bob.id,
      mode: "subscription",
      billing_address_collection: "required",
      allow_promotion_codes: true,
    });
    expect(session.success_url).toMatch(/^http:\/\/localhost:3000\/account\?checkout=success&session_id=\{CHECKOUT_SESSION_ID\}$/);

    const portal = await createPortalSession(alice.id);
    const page = await (await fetch(portal.url)).text();
    expect(page).toContain(alice.email);
    expect(page).not.toContain(bob.email);
    expect(aliceCustomer).not.toBe(bobCustomer);
  });

  it("sends the user back to the app origin their page is on when the caller names one (a loopback alias in development)", async () => {
    const carol = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    await ensureStripeCustomer(carol.id);
    const appUrl = "http://127.0.0.1:3000";
    const checkout = await createCheckoutSession(carol.id, { plan: "starter" }, { appUrl });
    const session = await stripe.checkout.sessions.retrieve(new URL(checkout.url).pathname.split("/").pop() ?? "");
    expect(session.success_url).toBe(`${appUrl}/account?checkout=success&session_id={CHECKOUT_SESSION_ID}`);
    expect(session.cancel_url).toBe(`${appUrl}/pricing?checkout=canceled`);
    const portal = await createPortalSession(carol.id, {}, { appUrl });
    const page = await (await fetch(portal.url)).text();
    expect(page).toContain(`href="${appUrl}/account"`);
  });
});

describe("account deletion", () => {
  it("cancels the subscription immediately in Stripe, then deletes the user", async () => {
    const user = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const customerId = await ensureStripeCustomer(user.id);
    const checkout = await createCheckoutSession(user.id, { plan: "starter" });
    await harness.completeCheckout(checkout.url);
    await harness.idle();

    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await deleteAccount(user.id);
    await harness.idle();
    warn.mockRestore();
    const subs = await stripe.subscriptions.list({ customer: customerId, status: "all" });
    expect(subs.data.map((sub) => sub.status)).toEqual(["canceled"]);
    expect(await (await getDb()).select().from(users).where(eq(users.id, user.id))).toHaveLength(0);
  });

  it("expires a Checkout Session left open, so it cannot start a subscription after the deletion", async () => {
    const user = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const customerId = await ensureStripeCustomer(user.id);
    const checkout = await createCheckoutSession(user.id, { plan: "pro" });
    expect(checkout.kind).toBe("checkout");

    await deleteAccount(user.id);
    const sessions = await stripe.checkout.sessions.list({ customer: customerId });
    expect(sessions.data.map((session) => session.status)).toEqual(["expired"]);
    // Paying on the page the user still had open no longer works.
    expect((await harness.attemptCheckout(checkout.url, "4242424242424242")).status).toBeGreaterThanOrEqual(400);
    expect((await stripe.subscriptions.list({ customer: customerId, status: "all" })).data).toEqual([]);
    expect(await (await getDb()).select().from(users).where(eq(users.id, user.id))).toHaveLength(0);
  });

  it("deletes nothing when Stripe cannot cancel the subscription", async () => {
    const user = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    await ensureStripeCustomer(user.id);
    const unreachable = new Stripe("sk_test_x", { host: "127.0.0.1", port: 9, protocol: "http", maxNetworkRetries: 0 });
    await expect(deleteAccount(user.id, { stripe: unreachable })).rejects.toThrow();
    expect(await (await getDb()).select().from(users).where(eq(users.id, user.id))).toHaveLength(1);
  });

  it("is complete: Stripe customer deleted, budget forgotten, events detached (late ones too)", async () => {
    const user = await signUp({ email: email(), password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const customerId = await ensureStripeCustomer(user.id);
    const checkout = await createCheckoutSession(user.id, { plan: "starter" });
    await harness.completeCheckout(checkout.url);
    await harness.idle();
    const store = getBudgetStore();
    expect(await store.read(user.id)).not.toBeNull();
    await store.reserve(user.id, "open-request", 100);
    const db = await getDb();
    expect((await db.select().from(stripeEvents).where(eq(stripeEvents.customerId, customerId))).length).toBeGreaterThan(0);

    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    // The cancellation's and deletion's own events are delivered after the user is gone (deliveries paused
    // meanwhile): they must not name the customer again.
    await harness.faults({ pauseDeliveries: true });
    await deleteAccount(user.id);
    await harness.faults({ pauseDeliveries: false });
    await harness.idle();
    warn.mockRestore();
    expect(await store.read(user.id)).toBeNull();
    expect(await store.settle(user.id, "open-request", 1)).toEqual({ applied: false, tokensRemaining: 0 });
    expect(await db.select().from(stripeEvents).where(eq(stripeEvents.customerId, customerId))).toEqual([]);
    // Stripe answers a deleted customer as `{ deleted: true }`; the sandbox as "No such customer". Either: gone.
    const gone = await stripe.customers.retrieve(customerId).then(
      (customer) => customer.deleted === true,
      (error: { code?: string }) => error.code === "resource_missing",
    );
    expect(gone).toBe(true);
  });

  it("with STRIPE_KEEP_DELETED_CUSTOMERS keeps the customer, scrubbed of email, name, address and phone", async () => {
    const user = await signUp({ email: email(), name: "Ada Lovelace", password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const customerId = await ensureStripeCustomer(user.id);
    await stripe.customers.update(customerId, { phone: "+15555550100", address: { line1: "1 Main St", city: "London", country: "GB", postal_code: "N1" } });
    await deleteAccount(user.id, { keepStripeCustomer: true });
    const customer = await stripe.customers.retrieve(customerId);
    expect(customer.deleted).not.toBe(true);
    if (!customer.deleted) expect(customer).toMatchObject({ email: null, name: null, phone: null, address: null });
  });
});

// Every email over real SMTP into the local inbox (sandbox/mail), read back through its Mailpit-shaped API:
// recipient, subject and link of each; the outbox through an SMTP outage and a restart; replayed events.
import net from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { linkIn, listInbox, startTestInbox, waitForMessage } from "../../support/mail-inbox";

const inbox = await startTestInbox();
afterAll(() => inbox.close());
process.env.SMTP_URL = inbox.smtpUrl;
const { startStripeHarness, DAY_MS } = await import("../../support/stripe-harness");
const harness = await startStripeHarness();
const {
  getDb,
  closeDatabase,
  emailOutbox,
  users,
  findUserById,
  formatDate,
  createCaller,
  signUp,
  verifyEmail,
  resendVerificationEmail,
  ensureStripeCustomer,
  createCheckoutSession,
  syncSubscriptionFromStripe,
  enqueueBillingEmails,
  enqueueBudgetAlert,
  withBudgetAlerts,
  plans,
  startChat,
  errorResponse,
  deliverDueEmails,
  createSmtpMailer,
  getBudgetStore,
  createMemoryBudgetStore,
} = await loadApp();
// What POST /api/chat does: start the chat, and map a thrown AppError to its response.
const handleChatRequest = (...args: Parameters<typeof startChat>) => startChat(...args).catch((error: unknown) => errorResponse(error));
const { stripe } = harness;

const APP = "http://localhost:3000";
let counter = 0;
const newEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;
const noTasks = { schedule: () => {}, tasks: [] };

async function deliver(options: { now?: Date; smtpUrl?: string } = {}) {
  return deliverDueEmails({
    db: await getDb(),
    mailer: createSmtpMailer({ url: options.smtpUrl ?? inbox.smtpUrl }),
    now: options.now ? () => options.now! : undefined,
  });
}

async function userRow(userId: string) {
  const row = await findUserById(await getDb(), userId);
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

/** Signs up and opens the verification link from the inbox, as a person would. */
async function verifiedUser(label = "user") {
  const user = await signUp({ email: newEmail(label), password: "correct horse battery" }, noTasks);
  await deliver();
  const message = await waitForMessage(inbox.url, user.email, "Confirm your email address");
  const token = new URL(linkIn(message, `${APP}/verify-email?token=`)).searchParams.get("token");
  await verifyEmail(token);
  return user;
}

async function subscriber(plan: "starter" | "pro" = "starter") {
  const user = await verifiedUser("buyer");
  const customerId = await ensureStripeCustomer(user.id);
  const checkout = await createCheckoutSession(user.id, { plan });
  await harness.completeCheckout(checkout.url);
  await harness.idle();
  await deliver();
  return { user, customerId, row: await userRow(user.id) };
}

async function replayEventsOf(customerId: string) {
  const events = await stripe.events.list({ limit: 100 });
  const mine = events.data.filter((event) => JSON.stringify(event.data.object).includes(customerId));
  for (const event of mine) {
    const payload = JSON.stringify({ ...event, id: `${event.id}_replayed_${Math.random().toString(36).slice(2)}` });
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
    const response = await harness.postWebhook(
      new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }),
    );
    expect(response.status).toBe(200);
  }
  // Reversed too: order must not matter.
  for (const event of [...mine].reverse()) {
    const payload = JSON.stringify({ ...event, id: `${event.id}_reordered_${Math.random().toString(36).slice(2)}` });
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret: harness.webhookSecret });
    await harness.postWebhook(new Request("http://app/api/webhooks/stripe", { method: "POST", body: payload, headers: { "stripe-signature": header } }));
  }
  return mine.length;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("email verification", () => {
  it("sends a link on sign-up; Checkout and chat are refused until it is opened, and the link works once", async () => {
    const user = await signUp({ email: newEmail("verify"), password: "correct horse battery" }, noTasks);
    expect(await deliver()).toMatchObject({ sent: 1 });
    const message = await waitForMessage(inbox.url, user.email, "Confirm your email address");
    expect(message.To).toEqual([{ Address: user.email, Name: "" }]);
    expect(message.From.Address).toBe("hello@localhost");
    const link = linkIn(message, `${APP}/verify-email?token=`);
    expect(message.HTML).toContain(link.replace(/&/g, "&amp;"));

    const db = await getDb();
    const caller = createCaller({ db, userId: user.id });
    await expect(caller.billing.createCheckoutSession({ plan: "starter" })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringMatching(/^Verify your email address first/),
    });
    const chat = await handleChatRequest(
      new Request("http://app/api/chat", { method: "POST", body: JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "hi" }] }] }) }),
      { userId: user.id },
      { store: createMemoryBudgetStore() },
    );
    expect(chat.status).toBe(403);
    expect(((await chat.json()) as { error: { message: string } }).error.message).toMatch(/Verify your email/);

    const token = new URL(link).searchParams.get("token");
    await verifyEmail(token);
    expect((await userRow(user.id)).emailVerified).toBeInstanceOf(Date);
    await expect(verifyEmail(token)).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/already used/) });
    expect(await caller.billing.createCheckoutSession({ plan: "starter" })).toMatchObject({ url: expect.stringContaining("/checkout/") });
  });

  it("refuses forged, oversized and expired links with a clear message and changes nothing", async () => {
    const user = await signUp({ email: newEmail("expired"), password: "correct horse battery" }, noTasks);
    await deliver();
    const token = new URL(linkIn(await waitForMessage(inbox.url, user.email, "Confirm your email address"), `${APP}/verify-email?token=`)).searchParams.get("token");
    const forged = "A".repeat(43);
    await expect(verifyEmail(forged)).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/not valid/) });
    await expect(verifyEmail("x".repeat(10 * 1024 * 1024))).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(verifyEmail(undefined)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(verifyEmail(token, { now: new Date(Date.now() + 25 * 60 * 60 * 1000) })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/expired/),
    });
    expect((await userRow(user.id)).emailVerified).toBeNull();
  });

  it("resends a link at most once a minute", async () => {
    const user = await signUp({ email: newEmail("resend"), password: "correct horse battery" }, noTasks);
    await expect(resendVerificationEmail(user.id)).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect(await resendVerificationEmail(user.id, { now: new Date(Date.now() + 61_000) })).toEqual({ sentTo: user.email });
    await deliver();
    await waitForMessage(inbox.url, user.email, "Confirm your email address");
    expect((await listInbox(inbox.url, user.email)).length).toBe(2);
  });
});

describe("billing emails", () => {
  it("subscription started: plan, amount, renewal date and invoice link, once however the events are replayed", async () => {
    const { user, customerId, row } = await subscriber("starter");
    const message = await waitForMessage(inbox.url, user.email, "Welcome to Hourglass Starter");
    expect(message.Text).toContain("$9.00 / month");
    expect(message.Text).toContain(`Next renewal: ${formatDate(row.stripeCurrentPeriodEnd!)}`);
    const invoiceLink = linkIn(message, `${harness.sandbox.url}/invoice/in_`);
    const sub = await harness.currentSubscription(customerId);
    const invoiceId = typeof sub?.latest_invoice === "string" ? sub.latest_invoice : sub?.latest_invoice?.id;
    expect(invoiceLink).toBe(`${harness.sandbox.url}/invoice/${invoiceId}`);

    expect(await replayEventsOf(customerId)).toBeGreaterThan(3);
    await syncSubscriptionFromStripe(customerId);
    expect(await deliver()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    const mine = await listInbox(inbox.url, user.email);
    expect(mine.map((m) => m.Subject).sort()).toEqual(["Confirm your email address", "Welcome to Hourglass Starter"]);
  });

  it("payment failed: the hosted invoice link and the date access ends, once per invoice", async () => {
    const { user, customerId, row } = await subscriber();
    const declining = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customerId });
    await stripe.customers.update(customerId, { invoice_settings: { default_payment_method: declining.id } });
    const sub = await harness.currentSubscription(customerId);
    await stripe.subscriptions.update(sub!.id, { default_payment_method: declining.id });
    await harness.advanceClock(customerId, new Date(row.stripeCurrentPeriodEnd!.getTime() + 60_000));
    await harness.idle();
    await deliver();
    const after = await userRow(user.id);
    expect(after.subscriptionStatus).toBe("past_due");
    const message = await waitForMessage(inbox.url, user.email, "Your Hourglass payment failed");
    const failedInvoice = (await harness.currentSubscription(customerId))!.latest_invoice;
    const failedId = typeof failedInvoice === "string" ? failedInvoice : failedInvoice?.id;
    expect(linkIn(message, `${harness.sandbox.url}/invoice/`)).toBe(`${harness.sandbox.url}/invoice/${failedId}`);
    expect(message.Text).toContain(`your access ends on ${formatDate(after.planExpires!)}`);

    await replayEventsOf(customerId);
    await deliver();
    expect((await listInbox(inbox.url, user.email)).filter((m) => m.Subject === "Your Hourglass payment failed")).toHaveLength(1);
  });

  it("cancellation: 'ends on' when scheduled, 'has ended' when it ends, each once", async () => {
    const { user, customerId } = await subscriber("pro");
    const sub = await harness.currentSubscription(customerId);
    await stripe.subscriptions.update(sub!.id, { cancel_at_period_end: true });
    await harness.idle();
    await deliver();
    const cancelAt = (await userRow(user.id)).cancelAt!;
    const scheduled = await waitForMessage(inbox.url, user.email, "Your Hourglass Pro plan is canceled");
    expect(scheduled.Text).toContain(`until ${formatDate(cancelAt)}`);
    expect(linkIn(scheduled, `${APP}/account`)).toBe(`${APP}/account`);

    await harness.advanceClock(customerId, new Date(cancelAt.getTime() + DAY_MS));
    await harness.idle();
    await replayEventsOf(customerId);
    await deliver();
    const ended = await waitForMessage(inbox.url, user.email, "Your Hourglass Pro plan has ended");
    expect(linkIn(ended, `${APP}/pricing`)).toBe(`${APP}/pricing`);
    const subjects = (await listInbox(inbox.url, user.email)).map((m) => m.Subject);
    expect(subjects.filter((s) => s.startsWith("Your Hourglass Pro plan"))).toHaveLength(2);
  });

  it("trial ending: three days before the trial ends, once per trial end", async () => {
    const user = await verifiedUser("trial");
    const db = await getDb();
    const trialEnd = Math.floor(Date.now() / 1000) + 3 * 24 * 60 * 60;
    const prices = await stripe.prices.list({ lookup_keys: [plans.pro.lookupKey!] });
    const price = prices.data[0]!;
    const subscription = {
      id: "sub_trial_example",
      status: "trialing",
      trial_end: trialEnd,
      latest_invoice: null,
      items: { data: [{ price, current_period_end: trialEnd }] },
    } as unknown as import("stripe").Stripe.Subscription;
    const previous = await userRow(user.id);
    const next = {
      stripeSubscriptionId: "sub_trial_example",
      stripePriceId: price.id,
      stripeCurrentPeriodEnd: new Date(trialEnd * 1000),
      planActive: true,
      planExpires: new Date(trialEnd * 1000),
      planId: "pro",
      subscriptionStatus: "trialing",
      cancelAt: null,
      billingInterval: "month",
      billingAnchor: new Date(trialEnd * 1000),
      trialEndsAt: new Date(trialEnd * 1000),
      stripeOverageLookupKey: null,
    };
    // As the sync does for customer.subscription.trial_will_end: twice, as a redelivery would.
    for (let i = 0; i < 2; i++) await db.transaction((tx) => enqueueBillingEmails(tx, previous, next, { subscription }));
    await deliver();
    const message = await waitForMessage(inbox.url, user.email, `Your Hourglass trial ends on ${formatDate(trialEnd * 1000)}`);
    expect(message.Text).toContain("$29.00 / month");
    expect(linkIn(message, `${APP}/account`)).toBe(`${APP}/account`);
    expect((await listInbox(inbox.url, user.email)).filter((m) => m.Subject.startsWith("Your Hourglass trial"))).toHaveLength(1);
  });
});

describe("budget emails", () => {
  it("80% and 100% once each per period, with the reset date and an upgrade link; off when the user says so", async () => {
    const { user, row } = await subscriber("starter");
    const pending: Array<Promise<unknown>> = [];
    const store = withBudgetAlerts(getBudgetStore(), (userId, remaining) => {
      const check = enqueueBudgetAlert(userId, remaining);
      pending.push(check);
      return check;
    });
    const spend = async (tokens: number) => {
      const id = `spend-${Math.random()}`;
      expect((await store.reserve(user.id, id, tokens)).ok).toBe(true);
      await store.settle(user.id, id, tokens);
      await Promise.all(pending);
    };
    const budget = plans.starter.tokenBudget;
    await spend(budget * 0.5);
    await spend(budget * 0.3);
    await spend(10);
    await deliver();
    const eighty = await waitForMessage(inbox.url, user.email, "You have used 80% of your chat tokens");
    expect(eighty.Text).toContain(`resets on ${formatDate(row.stripeCurrentPeriodEnd!)}`);
    expect(linkIn(eighty, `${APP}/pricing`)).toBe(`${APP}/pricing`);
    await spend(budget * 0.2 - 10);
    await deliver();
    await waitForMessage(inbox.url, user.email, "You have used all your chat tokens");
    const alerts = (await listInbox(inbox.url, user.email)).filter((m) => m.Subject.startsWith("You have used"));
    expect(alerts).toHaveLength(2);

    const quiet = await subscriber("starter");
    const db = await getDb();
    await db.update(users).set({ budgetEmails: false }).where(eq(users.id, quiet.user.id));
    expect(await enqueueBudgetAlert(quiet.user.id, 0)).toBeNull();
  });
});

describe("the outbox", () => {
  it("survives an SMTP outage and a restart: delivered once when SMTP is back", async () => {
    const deadSmtp = `smtp://127.0.0.1:${await freePort()}`;
    const user = await signUp({ email: newEmail("outage"), password: "correct horse battery" }, noTasks);
    const during = await deliver({ smtpUrl: deadSmtp });
    expect(during).toMatchObject({ sent: 0, retrying: 1 });
    const db = await getDb();
    const [row] = await db.select().from(emailOutbox).where(eq(emailOutbox.userId, user.id));
    expect(row).toMatchObject({ attempts: 1, sentAt: null, lastError: expect.stringMatching(/ECONNREFUSED|connect/) });
    expect(row!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
    // Back up, but not due yet: nothing is sent early.
    expect(await deliver()).toMatchObject({ sent: 0 });

    // A restart: the process's database handle goes away; the outbox row stays.
    await closeDatabase();
    const later = new Date(Date.now() + 20 * 60 * 1000);
    expect(await deliver({ now: later })).toMatchObject({ sent: 1 });
    expect(await deliver({ now: later })).toMatchObject({ sent: 0 });
    await waitForMessage(inbox.url, user.email, "Confirm your email address");
    expect(await listInbox(inbox.url, user.email)).toHaveLength(1);
  });

  it("two deliverers at once send each email once", async () => {
    const emails = await Promise.all([1, 2, 3, 4, 5].map(() => signUp({ email: newEmail("pair"), password: "correct horse battery" }, noTasks)));
    const [a, b] = await Promise.all([deliver(), deliver()]);
    expect(a.sent + b.sent).toBe(5);
    for (const user of emails) {
      await waitForMessage(inbox.url, user.email, "Confirm your email address");
      expect(await listInbox(inbox.url, user.email)).toHaveLength(1);
    }
  });
});

// Dunning: a renewal the card cannot pay, through the real Stripe client, the sandbox's test clock and hosted pages,
// with signed webhooks delivered to the real route. The row records the open invoice and when it was issued; every
// signed-in page can show it (account.session), chat keeps the renewed budget through BILLING_GRACE_SECONDS and then
// answers 402 with the invoice's link, and paying (on the hosted invoice page or through the portal's card-update
// flow) clears it without a second refill.
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const {
  getDb,
  findUserById,
  signUp,
  ensureStripeCustomer,
  createCheckoutSession,
  createPortalSession,
  getChatEntitlement,
  getBillingStatus,
  syncSubscriptionFromStripe,
  getBudgetStore,
  createMemoryBudgetStore,
  createCaller,
  startChat,
  errorResponse,
  plans,
  env,
} = await loadApp();
const { stripe } = harness;

const MINUTE = 60_000;
let counter = 0;

async function userRow(userId: string) {
  const row = await findUserById(await getDb(), userId);
  if (!row) throw new Error(`no user ${userId}`);
  return row;
}

async function spend(userId: string, tokens: number) {
  const store = getBudgetStore();
  const requestId = `spend-${Math.random()}`;
  expect((await store.reserve(userId, requestId, tokens)).ok).toBe(true);
  await store.settle(userId, requestId, tokens);
}

/** A Starter subscriber whose card then starts failing, advanced past the renewal: the renewal invoice stays open. */
async function pastDueSubscriber() {
  const user = await signUp({ email: `dunning${++counter}-${Date.now()}@example.com`, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
  const customerId = await ensureStripeCustomer(user.id);
  const checkout = await createCheckoutSession(user.id, { plan: "starter" });
  await harness.completeCheckout(checkout.url);
  await harness.idle();
  const bought = await userRow(user.id);
  await spend(user.id, 300_000);

  const declining = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customerId });
  await stripe.customers.update(customerId, { invoice_settings: { default_payment_method: declining.id } });
  const sub = (await stripe.subscriptions.list({ customer: customerId })).data[0]!;
  await stripe.subscriptions.update(sub.id, { default_payment_method: declining.id });
  await harness.advanceClock(customerId, new Date(bought.stripeCurrentPeriodEnd!.getTime() + MINUTE));
  await harness.idle();

  const invoice = (await stripe.invoices.list({ subscription: sub.id, status: "open" })).data[0];
  if (!invoice) throw new Error("the failed renewal left no open invoice");
  return { user, customerId, subscriptionId: sub.id, invoice, bought, row: await userRow(user.id) };
}

const chatRequest = () =>
  new Request("http://app/api/chat", {
    method: "POST",
    body: JSON.stringify({ messages: [{ id: "m1", role: "user", parts: [{ type: "text", text: "Still there?" }] }] }),
  });

/** POST /api/chat as the route runs it, with the entitlement read at `now` (the email check is the route's own). */
const chatAt = (userId: string, now: Date) =>
  startChat(chatRequest(), { userId }, { getEntitlement: (id) => getChatEntitlement(id, { now }) }).catch((error: unknown) =>
    errorResponse(error),
  );

describe("a renewal the card cannot pay", () => {
  it("records the open invoice and when it was issued, shows it to every page, and keeps the renewed budget through the grace", async () => {
    const { user, invoice, bought, row } = await pastDueSubscriber();
    expect(row).toMatchObject({ subscriptionStatus: "past_due", planActive: true, openInvoiceUrl: invoice.hosted_invoice_url });
    expect(invoice.hosted_invoice_url).toMatch(/^http/);
    expect(row.pastDueSince?.getTime()).toBe((invoice.status_transitions.finalized_at ?? invoice.created) * 1000);
    expect(row.stripeCurrentPeriodEnd!.getTime()).toBeGreaterThan(bought.stripeCurrentPeriodEnd!.getTime());

    // Chat keeps working: the renewed period's budget was granted once, for the grace.
    expect((await getBudgetStore().read(user.id))?.tokensRemaining).toBe(plans.starter.tokenBudget);
    const chatStopsAt = new Date(row.pastDueSince!.getTime() + env.BILLING_GRACE_SECONDS * 1000);
    const during = await chatAt(user.id, new Date(chatStopsAt.getTime() - MINUTE));
    expect(during.status).toBe(200);
    await during.text();

    // Every signed-in page asks account.session, which carries the notice; /account's status says the same.
    const session = await createCaller({ db: await getDb(), userId: user.id }).account.session();
    expect(session.paymentDue).toEqual({ invoiceUrl: invoice.hosted_invoice_url, chatStopsAt, stopped: false });
    const status = await getBillingStatus(user.id, { now: new Date(chatStopsAt.getTime() + 1000) });
    expect(status).toMatchObject({ pastDue: true, paymentDue: { invoiceUrl: invoice.hosted_invoice_url, stopped: true } });
  });

  it("answers 402 with the invoice's link once the grace is over, and chats again once the invoice is paid on its hosted page", async () => {
    const { user, invoice, row } = await pastDueSubscriber();
    const afterGrace = new Date(row.pastDueSince!.getTime() + env.BILLING_GRACE_SECONDS * 1000 + 1000);
    const refused = await chatAt(user.id, afterGrace);
    expect(refused.status).toBe(402);
    const body = (await refused.json()) as { error: { code: string; message: string; invoiceUrl: string; accountUrl: string } };
    expect(body.error).toMatchObject({ code: "PAYMENT_REQUIRED", invoiceUrl: invoice.hosted_invoice_url, accountUrl: "/account" });
    expect(body.error.message).toMatch(/payment failed/i);
    await spend(user.id, 10_000);

    // A declined card on the hosted invoice page leaves it open and says so.
    const declined = await fetch(`${invoice.hosted_invoice_url}/pay`, {
      method: "POST",
      body: new URLSearchParams({ card: "4000000000000002", exp: "12 / 39", cvc: "123" }),
      redirect: "manual",
    });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toMatch(/declined/i);
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe("open");

    const paid = await fetch(`${invoice.hosted_invoice_url}/pay`, {
      method: "POST",
      body: new URLSearchParams({ card: "4242424242424242", exp: "12 / 39", cvc: "123" }),
      redirect: "manual",
    });
    expect(paid.status).toBe(303);
    await harness.idle();
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe("paid");
    expect(await userRow(user.id)).toMatchObject({ subscriptionStatus: "active", pastDueSince: null, openInvoiceUrl: null });
    // Paying refills nothing more: the period's budget was granted during the grace.
    expect((await getBudgetStore().read(user.id))?.tokensRemaining).toBe(plans.starter.tokenBudget - 10_000);
    expect((await getChatEntitlement(user.id, { now: afterGrace })).paymentDue).toBeNull();
    const again = await chatAt(user.id, afterGrace);
    expect(again.status).toBe(200);
    await again.text();
    expect((await createCaller({ db: await getDb(), userId: user.id }).account.session()).paymentDue).toBeNull();
  });

  it("grants nothing for an unpaid renewal first seen after the grace", async () => {
    const { customerId, row } = await pastDueSubscriber();
    const lateStore = createMemoryBudgetStore();
    const afterGrace = new Date(row.pastDueSince!.getTime() + env.BILLING_GRACE_SECONDS * 1000 + 1000);
    const result = await syncSubscriptionFromStripe(customerId, { budget: lateStore, now: () => afterGrace }, { budgetMissing: true });
    expect(result).toMatchObject({ outcome: "synced", budgetReset: false });
    expect(await lateStore.read(row.id)).toBeNull();
  });

  it("opens the portal on the card form alone, and a saved card pays what is due and returns to the account page", async () => {
    const { user, invoice } = await pastDueSubscriber();
    const { url } = await createPortalSession(user.id, { flow: "payment_method_update" });
    const page = await (await fetch(url)).text();
    expect(page).toContain("Update payment method");
    expect(page).not.toContain("Cancel subscription");
    expect(page).toMatch(/pays the \$9\.00 that is due now/);

    const saved = await fetch(`${url}/card`, {
      method: "POST",
      body: new URLSearchParams({ card: "4242424242424242", exp: "12 / 39", cvc: "123" }),
      redirect: "manual",
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`${env.APP_URL}/account?card=updated`);
    await harness.idle();
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe("paid");
    expect(await userRow(user.id)).toMatchObject({ subscriptionStatus: "active", pastDueSince: null, openInvoiceUrl: null });
  });

  it("refuses a portal flow it does not know, with a clear error", async () => {
    const user = await signUp({ email: `dunning-flow${++counter}-${Date.now()}@example.com`, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
    const caller = createCaller({ db: await getDb(), userId: user.id });
    await expect(caller.billing.createPortalSession({ flow: "subscription_cancel" } as never)).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/flow must be payment_method_update/),
    });
    await expect(caller.billing.createPortalSession({ flow: "payment_method_update", extra: 1 } as never)).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

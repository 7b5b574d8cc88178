// The hosted pages driven as a browser would, with plain form posts: Checkout (pay, decline), the portal (switch,
// cancel, undo, card update) and the admin overview.
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDate } from "../engine";
import { type Harness, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;
let configId: string;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
  const config = await h.stripe.billingPortal.configurations.create({
    business_profile: { headline: "Hourglass billing" },
    features: {
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      subscription_cancel: { enabled: true, mode: "at_period_end" },
      subscription_update: {
        enabled: true,
        default_allowed_updates: ["price"],
        proration_behavior: "create_prorations",
        products: [
          { product: catalog.basicProduct.id, prices: [catalog.basic.id] },
          { product: catalog.proProduct.id, prices: [catalog.pro.id] },
        ],
      },
    },
  });
  configId = config.id;
});
afterAll(() => h.close());

const post = (url: string, fields: Record<string, string>) =>
  fetch(url, { method: "POST", body: new URLSearchParams(fields), redirect: "manual" });

const checkoutFields = (card: string) => ({
  email: "page@example.com",
  name: "Grace Hopper",
  "address[line1]": "10 Compiler Lane",
  "address[city]": "Arlington",
  "address[postal_code]": "22201",
  "address[country]": "US",
  card,
  exp: "12 / 39",
  cvc: "123",
});

async function openCheckout(email: string) {
  const customer = await h.stripe.customers.create({ email });
  const session = await h.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    billing_address_collection: "required",
    line_items: [{ price: catalog.basic.id, quantity: 1 }],
    success_url: "https://app.test/account?checkout=success&session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "https://app.test/pricing",
  });
  return { customer, session };
}

describe("hosted Checkout", () => {
  it("renders the plan, price, email and labelled fields", async () => {
    const { session } = await openCheckout("render@example.com");
    const response = await fetch(session.url ?? "");
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Basic");
    expect(html).toContain("$10.00 <small>per month</small>");
    expect(html).toContain("render@example.com");
    for (const [id, label] of [
      ["email", "Email"],
      ["name", "Name on card"],
      ["line1", "Address line 1"],
      ["city", "City"],
      ["postal_code", "Postal code"],
      ["country", "Country"],
      ["card", "Card number"],
      ["exp", "Expiry"],
      ["cvc", "CVC"],
    ]) {
      expect(html).toContain(`<label for="${id}">${label}</label>`);
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).toMatch(/<option value="US" selected>/);
    expect(html).toMatch(/<button type="submit">Subscribe<\/button>/);
    expect(html).toContain(`<a href="https://app.test/pricing">Back</a>`);
  });

  it("shows the decline for 4000 0000 0000 0002 and creates nothing", async () => {
    const { customer, session } = await openCheckout("declined-page@example.com");
    const response = await post(session.url ?? "", checkoutFields("4000 0000 0000 0002"));
    expect(response.status).toBe(402);
    const html = await response.text();
    expect(html).toContain(`<div role="alert">Your card was declined.</div>`);
    expect(html).toContain(`value="10 Compiler Lane"`);
    expect((await h.stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toHaveLength(0);
    expect((await h.stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
  });

  it("asks for the card number and expiry when they are left empty, and creates nothing", async () => {
    const { customer, session } = await openCheckout("empty-card@example.com");
    const noCard = await post(session.url ?? "", { ...checkoutFields(""), card: "" });
    expect(noCard.status).toBe(402);
    expect(await noCard.text()).toContain(`<div role="alert">Your card number is incomplete.</div>`);
    const noExpiry = await post(session.url ?? "", { ...checkoutFields("4242 4242 4242 4242"), exp: "" });
    expect(noExpiry.status).toBe(402);
    expect(await noExpiry.text()).toContain(`<div role="alert">Your card&#39;s expiration date is incomplete.</div>`);
    expect((await h.stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toHaveLength(0);
    expect((await h.stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
  });

  it("pays with 4242 4242 4242 4242 and redirects to success_url with the session id", async () => {
    const { customer, session } = await openCheckout("paid-page@example.com");
    const response = await post(session.url ?? "", checkoutFields("4242 4242 4242 4242"));
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`https://app.test/account?checkout=success&session_id=${session.id}`);
    const done = await h.stripe.checkout.sessions.retrieve(session.id);
    expect(done.status).toBe("complete");
    const subs = await h.stripe.subscriptions.list({ customer: customer.id });
    expect(subs.data.map((s) => s.status)).toEqual(["active"]);
    const saved = (await h.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(saved.address?.city).toBe("Arlington");
  });
});

describe("hosted portal", () => {
  it("switches plan, cancels at period end, undoes it, updates the card, and links invoices and the return URL", async () => {
    const { customer, session } = await openCheckout("portal-page@example.com");
    await post(session.url ?? "", checkoutFields("4242424242424242"));
    const [sub] = (await h.stripe.subscriptions.list({ customer: customer.id })).data;
    if (!sub) throw new Error("no subscription");
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: configId, return_url: "https://app.test/account" });

    let html = await (await fetch(portal.url)).text();
    expect(html).toContain("Basic");
    expect(html).toContain("$10.00 per month");
    expect(html).toContain("Renews on");
    expect(html).toContain("Switch to Pro");
    expect(html).not.toContain("Switch to Basic");
    expect(html).toContain(`<a href="https://app.test/account">Return to the app</a>`);
    expect(html).toContain(`<label for="card">Card number</label>`);

    // Switch: first what it will do (the proration), nothing changed yet; then, confirmed, a proration invoice billed now.
    let response = await post(`${portal.url}/switch`, { price: catalog.pro.id });
    expect(response.status).toBe(200);
    html = await response.text();
    expect(html).toContain("Confirm your new plan");
    expect(html).toMatch(/Unused time on Basic<\/dt><dd>−\$\d+\.\d\d<\/dd>/);
    expect(html).toMatch(/Remaining time on Pro<\/dt><dd>\$\d+\.\d\d<\/dd>/);
    const previewDue = /Due today<\/dt><dd class="total">\$(\d+\.\d\d)<\/dd>/.exec(html)?.[1];
    expect(previewDue).toBeDefined();
    expect(html).toContain('<input type="hidden" name="confirm" value="1">');
    expect((await h.stripe.subscriptions.retrieve(sub.id)).items.data[0]?.price.id).toBe(catalog.basic.id);
    response = await post(`${portal.url}/switch`, { price: catalog.pro.id, confirm: "1" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toMatch(new RegExp(`^/portal/${portal.id}`));
    const switched = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(switched.items.data[0]?.price.id).toBe(catalog.pro.id);
    expect((switched.latest_invoice as Stripe.Invoice).billing_reason).toBe("subscription_update");
    // The customer's test clock stands still: the preview is exactly what was charged.
    expect(((switched.latest_invoice as Stripe.Invoice).amount_due / 100).toFixed(2)).toBe(previewDue);
    html = await (await fetch(portal.url)).text();
    expect(html).toContain("Switch to Basic");

    // Cancel: flexible mode sets cancel_at to the period end and leaves cancel_at_period_end false.
    response = await post(`${portal.url}/cancel`, {});
    expect(response.status).toBe(200);
    html = await response.text();
    expect(html).toContain("Cancel your subscription");
    expect(html).toContain(`stays active until <strong>${formatDate(periodEnd)}</strong>`);
    expect((await h.stripe.subscriptions.retrieve(sub.id)).cancel_at).toBeNull();
    response = await post(`${portal.url}/cancel`, { confirm: "1" });
    expect(response.status).toBe(303);
    const canceling = await h.stripe.subscriptions.retrieve(sub.id);
    expect(canceling.cancel_at).toBe(periodEnd);
    expect(canceling.cancel_at_period_end).toBe(false);
    expect(canceling.status).toBe("active");
    html = await (await fetch(portal.url)).text();
    expect(html).toContain("Cancels on");
    expect(html).toContain(">Don't cancel</button>");
    expect(html).not.toContain(">Cancel subscription</button>");

    response = await post(`${portal.url}/undo`, {});
    expect(response.status).toBe(303);
    expect((await h.stripe.subscriptions.retrieve(sub.id)).cancel_at).toBeNull();

    // A card that declines is refused when it is attached, as on Checkout: nothing is saved.
    const pmsBefore = (await h.stripe.customers.listPaymentMethods(customer.id)).data.length;
    response = await post(`${portal.url}/card`, { card: "4000000000000002", exp: "12 / 39", cvc: "123" });
    expect(response.status).toBe(402);
    expect(await response.text()).toContain("Your card was declined.");
    expect((await h.stripe.customers.listPaymentMethods(customer.id)).data.length).toBe(pmsBefore);
    const unchanged = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["default_payment_method"] });
    expect((unchanged.default_payment_method as Stripe.PaymentMethod).card?.last4).toBe("4242");

    // 4000 0000 0000 0341 attaches; the next renewal fails on it.
    response = await post(`${portal.url}/card`, { card: "4000000000000341", exp: "12 / 39", cvc: "123" });
    expect(response.status).toBe(303);
    const withCard = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["default_payment_method"] });
    expect((withCard.default_payment_method as Stripe.PaymentMethod).card?.last4).toBe("0341");
    await h.stripe.testHelpers.testClocks.advance(String(customer.test_clock), { frozen_time: periodEnd + 60 });
    expect((await h.stripe.subscriptions.retrieve(sub.id)).status).toBe("past_due");

    // Putting a good card back settles the open invoice.
    await post(`${portal.url}/card`, { card: "4242424242424242", exp: "12 / 39", cvc: "123" });
    const recovered = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(recovered.status).toBe("active");
    expect((recovered.latest_invoice as Stripe.Invoice).status).toBe("paid");

    html = await (await fetch(portal.url)).text();
    const invoices = await h.stripe.invoices.list({ customer: customer.id });
    expect(invoices.data.length).toBe(3);
    for (const invoice of invoices.data) {
      expect(html).toContain(`href="${invoice.hosted_invoice_url}"`);
      const page = await fetch(invoice.hosted_invoice_url ?? "");
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(invoice.number ?? "");
    }
  });

  it("lists everything on the admin page, with a button per test clock to advance it a month", async () => {
    const html = await (await fetch(`${h.sandbox.url}/`)).text();
    expect(html).toContain("portal-page@example.com");
    expect(html).toContain("customer.subscription.updated");
    expect(html).toContain("Advance one month");
    const clock = (await h.stripe.testHelpers.testClocks.list({ limit: 1 })).data[0];
    if (!clock) throw new Error("no clock");
    const response = await post(`${h.sandbox.url}/_sandbox/test_clocks/${clock.id}/advance-month`, {});
    expect(response.status).toBe(303);
    const advanced = await h.stripe.testHelpers.testClocks.retrieve(clock.id);
    expect(advanced.frozen_time).toBeGreaterThanOrEqual(clock.frozen_time + 28 * 24 * 3600);
  });
});

describe("portal flows (flow_data)", () => {
  it("opens payment_method_update on the card form alone and redirects to after_completion's return_url once saved", async () => {
    const { customer, session } = await openCheckout("portal-flow@example.com");
    await post(session.url!, checkoutFields("4242424242424242"));
    const portal = await h.stripe.billingPortal.sessions.create({
      customer: customer.id,
      configuration: configId,
      return_url: "https://app.test/account",
      flow_data: { type: "payment_method_update", after_completion: { type: "redirect", redirect: { return_url: "https://app.test/account?card=updated" } } },
    });
    expect(portal.flow).toMatchObject({ type: "payment_method_update", after_completion: { type: "redirect", redirect: { return_url: "https://app.test/account?card=updated" } } });
    const html = await (await fetch(portal.url)).text();
    expect(html).toContain("Update payment method");
    expect(html).not.toContain("Change plan");
    expect(html).not.toContain("Cancel subscription");

    const declined = await post(`${portal.url}/card`, { card: "4000000000000002", exp: "12 / 39", cvc: "123" });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain("Update payment method");
    const saved = await post(`${portal.url}/card`, { card: "5555555555554444", exp: "12 / 39", cvc: "123" });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("https://app.test/account?card=updated");
    const updated = await h.stripe.customers.retrieve(customer.id, { expand: ["invoice_settings.default_payment_method"] });
    expect(updated.deleted ? null : (updated.invoice_settings.default_payment_method as Stripe.PaymentMethod).card?.last4).toBe("4444");
  });

  it("refuses an unknown flow, an unsupported one and a redirect without its URL, naming the parameter", async () => {
    const customer = await h.stripe.customers.create({ email: "portal-flow-errors@example.com" });
    const attempt = (flow_data: Record<string, unknown>) =>
      h.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: configId, flow_data } as never).then(
        () => null,
        (error: Stripe.errors.StripeError) => ({ param: error.param, message: error.message }),
      );
    expect(await attempt({ type: "teleport" })).toMatchObject({ param: "flow_data[type]", message: expect.stringMatching(/must be one of/) });
    expect(await attempt({ type: "subscription_cancel" })).toMatchObject({ param: "flow_data[type]", message: expect.stringMatching(/sandbox supports/) });
    expect(await attempt({ type: "payment_method_update", after_completion: { type: "redirect" } })).toMatchObject({
      param: "flow_data[after_completion][redirect][return_url]",
    });
  });
});

describe("hosted invoice page", () => {
  it("pays an open invoice with a card: a decline keeps it open and says so, a good card pays it", async () => {
    const customer = await h.stripe.customers.create({ email: "invoice-pay@example.com" });
    const failing = await h.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customer.id });
    await h.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], payment_behavior: "allow_incomplete" });
    const invoice = await h.stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(invoice.status).toBe("open");
    const page = await (await fetch(invoice.hosted_invoice_url!)).text();
    expect(page).toContain("Pay this invoice");

    const declined = await post(`${invoice.hosted_invoice_url}/pay`, { card: "4000000000000002", exp: "12 / 39", cvc: "123" });
    expect(declined.status).toBe(402);
    expect((await h.stripe.invoices.retrieve(invoice.id)).status).toBe("open");
    const paid = await post(`${invoice.hosted_invoice_url}/pay`, { card: "4242424242424242", exp: "12 / 39", cvc: "123" });
    expect(paid.status).toBe(303);
    expect((await h.stripe.invoices.retrieve(invoice.id)).status).toBe("paid");
    expect((await h.stripe.subscriptions.retrieve(sub.id)).status).toBe("active");
    const again = await post(`${invoice.hosted_invoice_url}/pay`, { card: "4242424242424242", exp: "12 / 39", cvc: "123" });
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/nothing to pay/);
  });
});

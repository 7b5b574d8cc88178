// Coupons, promotion codes and discounts, automatic tax, and the portal's card check, through the official client and
// the hosted pages: bad params get Stripe's errors, a code typed on Checkout discounts the invoices for as many periods
// as its coupon says, automatic tax adds the sandbox's fixed rate, and the portal declines what Checkout declines.
import fs from "node:fs";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_TAX_PERCENT, SANDBOX_TAX_RATE_ID } from "../discounts";
import { type Harness, completeCheckout, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;
let configId: string;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
  configId = (
    await h.stripe.billingPortal.configurations.create({
      features: { invoice_history: { enabled: true }, payment_method_update: { enabled: true }, subscription_cancel: { enabled: true, mode: "at_period_end" } },
    })
  ).id;
});
afterAll(() => h.close());

const post = (url: string, fields: Record<string, string>) => fetch(url, { method: "POST", body: new URLSearchParams(fields), redirect: "manual" });

const ADDRESS = { line1: "10 Compiler Lane", city: "Arlington", postal_code: "22201", country: "US" };
const pageFields = (card: string) => ({
  email: "buyer@example.com",
  name: "Grace Hopper",
  "address[line1]": ADDRESS.line1,
  "address[city]": ADDRESS.city,
  "address[postal_code]": ADDRESS.postal_code,
  "address[country]": ADDRESS.country,
  card,
  exp: "12 / 39",
  cvc: "123",
});

async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof Stripe.errors.StripeError)) throw new Error(`expected a Stripe error, got ${String(error)}`);
  return error;
}

let codeCounter = 0;
const uniqueCode = (prefix: string) => `${prefix}${++codeCounter}${Date.now().toString(36).toUpperCase()}`;

/** A customer on its own test clock, with a card on file and an address (automatic tax needs one). */
async function payingCustomer(email: string) {
  const customer = await h.stripe.customers.create({ email, address: ADDRESS, payment_method: "pm_card_visa", invoice_settings: { default_payment_method: "pm_card_visa" } });
  if (typeof customer.test_clock !== "string") throw new Error("customer has no test clock");
  return { customer, clock: customer.test_clock };
}

/** Advances the customer's clock just past each renewal, `periods` times; returns the invoices, oldest first. */
async function renew(sub: Stripe.Subscription, clock: string, periods: number): Promise<Stripe.Invoice[]> {
  for (let i = 0; i < periods; i++) {
    const current = await h.stripe.subscriptions.retrieve(sub.id);
    await h.stripe.testHelpers.testClocks.advance(clock, { frozen_time: (current.items.data[0]?.current_period_end ?? 0) + 60 });
  }
  const invoices = await h.stripe.invoices.list({ subscription: sub.id, limit: 100 });
  return [...invoices.data].reverse();
}

describe("coupons", () => {
  it("creates percent and amount coupons with Stripe's defaults, and retrieves, lists, renames and deletes them", async () => {
    const percent = await h.stripe.coupons.create({ percent_off: 25.5, duration: "repeating", duration_in_months: 3, name: "Quarter off" });
    expect(percent).toMatchObject({ object: "coupon", percent_off: 25.5, amount_off: null, currency: null, duration: "repeating", duration_in_months: 3, valid: true, times_redeemed: 0 });
    const amount = await h.stripe.coupons.create({ id: uniqueCode("FIVE"), amount_off: 500, currency: "USD" });
    expect(amount).toMatchObject({ amount_off: 500, currency: "usd", duration: "once", duration_in_months: null, percent_off: null });
    expect((await h.stripe.coupons.retrieve(amount.id)).id).toBe(amount.id);
    expect((await h.stripe.coupons.update(percent.id, { name: "Renamed" })).name).toBe("Renamed");
    expect((await h.stripe.coupons.list({ limit: 100 })).data.map((c) => c.id)).toEqual(expect.arrayContaining([percent.id, amount.id]));
    expect(await h.stripe.coupons.del(amount.id)).toEqual({ id: amount.id, object: "coupon", deleted: true });
    expect(await rejection(h.stripe.coupons.retrieve(amount.id))).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("refuses bad coupon params the way Stripe does, naming the param", async () => {
    const cases: Array<[Stripe.CouponCreateParams, string, RegExp]> = [
      [{ duration: "once" }, "percent_off", /either `percent_off` or `amount_off`/],
      [{ percent_off: 10, amount_off: 100, currency: "usd" }, "amount_off", /only specify one of these parameters: amount_off, percent_off/],
      [{ percent_off: 0 }, "percent_off", /greater than 0 and less than or equal to 100/],
      [{ percent_off: 100.5 }, "percent_off", /greater than 0 and less than or equal to 100/],
      [{ amount_off: 500 }, "currency", /Missing required param: currency/],
      [{ amount_off: -5, currency: "usd" }, "amount_off", /positive integer/],
      [{ percent_off: 10, duration: "repeating" }, "duration_in_months", /Missing required param: duration_in_months/],
      [{ percent_off: 10, duration: "once", duration_in_months: 2 }, "duration_in_months", /only be set when duration is `repeating`/],
      [{ percent_off: 10, duration: "weekly" }, "duration", /must be one of forever, once, or repeating/],
      [{ percent_off: 10, name: "x".repeat(41) }, "name", /at most 40 characters/],
      [{ percent_off: 10, redeem_by: 1_000_000 }, "redeem_by", /in the future/],
      [{ percent_off: 10, applies_to: { products: [catalog.basicProduct.id] } }, "applies_to", /does not support applies_to/],
      [{ amount_off: 100, currency: "usd", currency_options: { eur: { amount_off: 90 } } }, "currency_options", /does not support currency_options/],
    ];
    for (const [params, param, message] of cases) {
      const error = await rejection(h.stripe.coupons.create(params));
      expect({ params, statusCode: error.statusCode, param: error.param }).toEqual({ params, statusCode: 400, param });
      expect(error.message).toMatch(message);
    }
    const unknown = await rejection(h.stripe.coupons.create({ percent_off: 10, colour: "red" } as Stripe.CouponCreateParams));
    expect(unknown).toMatchObject({ statusCode: 400, code: "parameter_unknown", param: "colour" });
    const id = uniqueCode("TWICE");
    await h.stripe.coupons.create({ id, percent_off: 10 });
    expect(await rejection(h.stripe.coupons.create({ id, percent_off: 10 }))).toMatchObject({ statusCode: 400, code: "resource_already_exists", param: "id" });
  });
});

describe("promotion codes", () => {
  it("points a code at a coupon, finds it case-insensitively, and refuses a second active code with the same text", async () => {
    const coupon = await h.stripe.coupons.create({ percent_off: 20 });
    const code = uniqueCode("Spring-");
    const promo = await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code });
    expect(promo).toMatchObject({ object: "promotion_code", code, active: true, promotion: { type: "coupon", coupon: coupon.id }, times_redeemed: 0, customer: null });
    const expanded = await h.stripe.promotionCodes.retrieve(promo.id, { expand: ["promotion.coupon"] });
    expect((expanded.promotion.coupon as Stripe.Coupon).percent_off).toBe(20);
    expect((await h.stripe.promotionCodes.list({ code: code.toLowerCase() })).data.map((p) => p.id)).toEqual([promo.id]);
    const clash = await rejection(h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code: code.toUpperCase() }));
    expect(clash).toMatchObject({ statusCode: 400, param: "code" });
    expect(clash.message).toContain("already exists");
    await h.stripe.promotionCodes.update(promo.id, { active: false });
    const again = await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code });
    expect(again.active).toBe(true);
    expect(await rejection(h.stripe.promotionCodes.update(promo.id, { active: true }))).toMatchObject({ statusCode: 400, param: "active" });
    const generated = await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id } });
    expect(generated.code).toMatch(/^[A-Z0-9]{8}$/);
  });

  it("refuses bad promotion code params", async () => {
    const coupon = await h.stripe.coupons.create({ percent_off: 20 });
    const cases: Array<[Stripe.PromotionCodeCreateParams, number, string]> = [
      [{ promotion: { type: "coupon" } }, 400, "promotion[coupon]"],
      [{ promotion: { type: "coupon", coupon: "NO_SUCH_COUPON" } }, 404, "promotion[coupon]"],
      [{ promotion: { type: "coupon", coupon: coupon.id }, code: "with space" }, 400, "code"],
      [{ promotion: { type: "coupon", coupon: coupon.id }, code: "" }, 400, "code"],
      [{ promotion: { type: "coupon", coupon: coupon.id }, expires_at: 1_000_000 }, 400, "expires_at"],
      [{ promotion: { type: "coupon", coupon: coupon.id }, max_redemptions: 0 }, 400, "max_redemptions"],
      [{ promotion: { type: "coupon", coupon: coupon.id }, restrictions: { minimum_amount: 1000 } }, 400, "restrictions[minimum_amount_currency]"],
      [{ promotion: { type: "coupon", coupon: coupon.id }, customer: "cus_missing" }, 404, "customer"],
    ];
    for (const [params, statusCode, param] of cases) {
      const error = await rejection(h.stripe.promotionCodes.create(params));
      expect({ params, statusCode: error.statusCode, param: error.param }).toEqual({ params, statusCode, param });
    }
    expect(await rejection(h.stripe.promotionCodes.create({} as Stripe.PromotionCodeCreateParams))).toMatchObject({ statusCode: 400, param: "promotion" });
    expect(await rejection(h.stripe.promotionCodes.create({ promotion: { type: "gift" as "coupon", coupon: coupon.id } }))).toMatchObject({
      statusCode: 400,
      param: "promotion[type]",
    });
  });
});

describe("promotion codes on Checkout", () => {
  async function openCheckout(email: string, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
    const customer = await h.stripe.customers.create({ email });
    const session = await h.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      customer_update: { address: "auto", name: "auto" },
      billing_address_collection: "required",
      line_items: [{ price: catalog.pro.id, quantity: 1 }],
      allow_promotion_codes: true,
      success_url: "https://app.test/account?checkout=success&session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "https://app.test/pricing",
      ...extra,
    });
    return { customer, session };
  }

  it("applies a typed code on the hosted page, shows the discount, and the paid invoice carries it", async () => {
    const coupon = await h.stripe.coupons.create({ percent_off: 20, duration: "once", name: "Launch" });
    const code = uniqueCode("LAUNCH");
    const promo = await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code });
    const { customer, session } = await openCheckout("typed-code@example.com");
    const url = session.url ?? "";

    let page = await (await fetch(url)).text();
    expect(page).toContain('name="code"');
    expect(page).toContain('data-testid="checkout-total">$30.00<');

    let response = await post(`${url}/promotion`, { code: "NOT-A-CODE" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<div role="alert">This code is invalid.</div>');

    response = await post(`${url}/promotion`, { code: code.toLowerCase() });
    expect(response.status).toBe(200);
    page = await response.text();
    expect(page).toContain(`${code} applied`);
    expect(page).toContain('data-testid="checkout-discount">−$6.00<');
    expect(page).toContain('data-testid="checkout-total">$24.00<');
    const priced = await h.stripe.checkout.sessions.retrieve(session.id);
    expect(priced).toMatchObject({ amount_subtotal: 3000, amount_total: 2400, total_details: { amount_discount: 600, amount_tax: 0 }, discounts: [{ coupon: coupon.id, promotion_code: promo.id }] });

    response = await post(url, pageFields("4242 4242 4242 4242"));
    expect(response.status).toBe(303);
    const done = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ["line_items"] });
    expect(done).toMatchObject({ status: "complete", amount_total: 2400, total_details: { amount_discount: 600 } });
    expect(done.line_items?.data[0]).toMatchObject({ amount_subtotal: 3000, amount_discount: 600, amount_total: 2400 });
    const sub = await h.stripe.subscriptions.retrieve(String(done.subscription), { expand: ["discounts", "latest_invoice"] });
    const discount = sub.discounts[0] as Stripe.Discount;
    expect(discount).toMatchObject({ object: "discount", source: { type: "coupon", coupon: coupon.id }, promotion_code: promo.id, subscription: sub.id, customer: customer.id, checkout_session: session.id, end: null });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ subtotal: 3000, total: 2400, total_excluding_tax: 2400, amount_paid: 2400, discounts: [discount.id], total_discount_amounts: [{ amount: 600, discount: discount.id }], total_taxes: [] });
    expect(invoice.lines.data[0]).toMatchObject({ amount: 3000, discount_amounts: [{ amount: 600, discount: discount.id }] });
    expect((await h.stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);
    expect((await h.stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(1);
    const charge = (await h.stripe.invoicePayments.list({ invoice: invoice.id })).data[0];
    expect(charge?.amount_paid).toBe(2400);

    const hosted = await (await fetch(invoice.hosted_invoice_url ?? "")).text();
    expect(hosted).toContain(`${code} (20% off once)`);
    expect(hosted).toContain('data-testid="invoice-discount">−$6.00<');

    const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: configId });
    const portalPage = await (await fetch(portal.url)).text();
    expect(portalPage).toContain('data-testid="portal-discount"');
    expect(portalPage).toContain(`${code} (20% off once)`);
    expect(portalPage).toContain("$24.00");
  });

  it("refuses codes the session or the code does not allow, and a code can be removed before paying", async () => {
    const coupon = await h.stripe.coupons.create({ percent_off: 50 });
    const code = uniqueCode("HALF");
    await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code, restrictions: { minimum_amount: 5000, minimum_amount_currency: "usd" } });
    const { session } = await openCheckout("refused-code@example.com");
    let response = await post(`${session.url}/promotion`, { code });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("This code requires a minimum purchase of 50.00 USD.");

    const open = uniqueCode("OPEN");
    await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code: open });
    response = await post(`${session.url}/promotion`, { code: open });
    expect(await response.text()).toContain('data-testid="checkout-total">$15.00<');
    response = await post(`${session.url}/promotion`, { remove: "1" });
    expect(await response.text()).toContain('data-testid="checkout-total">$30.00<');
    expect((await h.stripe.checkout.sessions.retrieve(session.id)).discounts).toEqual([]);

    // A session created without allow_promotion_codes takes no code, on the page or at completion.
    const closed = await openCheckout("no-codes@example.com", { allow_promotion_codes: false });
    response = await post(`${closed.session.url}/promotion`, { code: open });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("does not accept promotion codes");
    const completion = await completeCheckout(h.sandbox, closed.session.id, { promotion_code: open });
    expect(completion.status).toBe(400);
    expect(completion.body).toMatchObject({ error: { code: "promotion_code_invalid", param: "promotion_code" } });
    expect((await h.stripe.subscriptions.list({ customer: String(closed.session.customer), status: "all" })).data).toHaveLength(0);

    // An exhausted code fails at completion, before anything is created.
    const once = uniqueCode("ONCE");
    await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code: once, max_redemptions: 1 });
    const first = await openCheckout("first-use@example.com");
    expect((await completeCheckout(h.sandbox, first.session.id, { promotion_code: once })).status).toBe(200);
    const second = await openCheckout("second-use@example.com");
    const refused = await completeCheckout(h.sandbox, second.session.id, { promotion_code: once });
    expect(refused).toMatchObject({ status: 400, body: { error: { message: "This code has been used up." } } });
    expect((await h.stripe.checkout.sessions.retrieve(second.session.id)).status).toBe("open");
  });

  it("keeps a first-time code from a customer who has paid before", async () => {
    const coupon = await h.stripe.coupons.create({ percent_off: 30 });
    const code = uniqueCode("WELCOME");
    await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code, restrictions: { first_time_transaction: true } });
    const { customer } = await payingCustomer("returning@example.com");
    await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }] });
    const session = await h.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: catalog.pro.id, quantity: 1 }],
      allow_promotion_codes: true,
      success_url: "https://app.test/ok",
    });
    const response = await post(`${session.url}/promotion`, { code });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("This code is only valid for first-time customers.");
    const newcomer = await openCheckout("newcomer@example.com");
    expect(await (await post(`${newcomer.session.url}/promotion`, { code })).text()).toContain('data-testid="checkout-total">$21.00<');
  });

  it("validates discounts given at session create", async () => {
    const coupon = await h.stripe.coupons.create({ amount_off: 1000, currency: "usd", duration: "forever" });
    const euro = await h.stripe.coupons.create({ amount_off: 1000, currency: "eur" });
    const customer = await h.stripe.customers.create({ email: "create-discount@example.com" });
    const base = { mode: "subscription" as const, customer: customer.id, line_items: [{ price: catalog.basic.id, quantity: 1 }], success_url: "https://app.test/ok" };
    const both = await rejection(h.stripe.checkout.sessions.create({ ...base, allow_promotion_codes: true, discounts: [{ coupon: coupon.id }] }));
    expect(both).toMatchObject({ statusCode: 400, param: "discounts" });
    expect(both.message).toContain("allow_promotion_codes, discounts");
    expect(await rejection(h.stripe.checkout.sessions.create({ ...base, discounts: [{ coupon: "NOPE" }] }))).toMatchObject({ statusCode: 404, param: "discounts[0][coupon]" });
    expect(await rejection(h.stripe.checkout.sessions.create({ ...base, discounts: [{ coupon: euro.id }] }))).toMatchObject({ statusCode: 400, param: "discounts[0][coupon]" });
    expect(await rejection(h.stripe.checkout.sessions.create({ ...base, discounts: [{ promotion_code: "promo_missing" }] }))).toMatchObject({
      statusCode: 404,
      param: "discounts[0][promotion_code]",
    });
    const session = await h.stripe.checkout.sessions.create({ ...base, discounts: [{ coupon: coupon.id }] });
    expect(session).toMatchObject({ amount_subtotal: 1000, amount_total: 0, discounts: [{ coupon: coupon.id, promotion_code: null }] });
    await completeCheckout(h.sandbox, session.id);
    const done = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ["invoice"] });
    expect(done.invoice as Stripe.Invoice).toMatchObject({ subtotal: 1000, total: 0, amount_paid: 0, status: "paid", total_discount_amounts: [{ amount: 1000 }] });
  });
});

describe("discounts over billing periods", () => {
  it("once: only the first invoice, then the discount leaves the subscription", async () => {
    const { customer, clock } = await payingCustomer("once@example.com");
    const coupon = await h.stripe.coupons.create({ percent_off: 20, duration: "once" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], discounts: [{ coupon: coupon.id }] });
    expect(sub.discounts).toHaveLength(1);
    const invoices = await renew(sub, clock, 2);
    expect(invoices.map((i) => [i.billing_reason, i.total])).toEqual([
      ["subscription_create", 800],
      ["subscription_cycle", 1000],
      ["subscription_cycle", 1000],
    ]);
    expect(invoices[1]?.discounts).toEqual([]);
    expect(invoices[1]?.total_discount_amounts).toEqual([]);
    expect((await h.stripe.subscriptions.retrieve(sub.id)).discounts).toEqual([]);
  });

  it("repeating for 3 months: three discounted monthly invoices, the fourth at full price", async () => {
    const { customer, clock } = await payingCustomer("repeating@example.com");
    const coupon = await h.stripe.coupons.create({ percent_off: 50, duration: "repeating", duration_in_months: 3 });
    const code = uniqueCode("THREE");
    const promo = await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.pro.id }], discounts: [{ promotion_code: promo.id }], expand: ["discounts"] });
    const discount = sub.discounts[0] as Stripe.Discount;
    const start = sub.items.data[0]?.current_period_start ?? 0;
    const expectedEnd = new Date(start * 1000);
    expectedEnd.setUTCMonth(expectedEnd.getUTCMonth() + 3);
    expect(discount).toMatchObject({ start, end: expectedEnd.getTime() / 1000, promotion_code: promo.id });
    const invoices = await renew(sub, clock, 4);
    expect(invoices.map((i) => i.total)).toEqual([1500, 1500, 1500, 3000, 3000]);
    expect(invoices.slice(0, 3).every((i) => i.total_discount_amounts?.[0]?.discount === discount.id)).toBe(true);
    expect((await h.stripe.subscriptions.retrieve(sub.id)).discounts).toEqual([]);
    // As on Stripe: customer.discount.created when it is redeemed, customer.discount.deleted when it runs out.
    await h.sandbox.idle();
    const events = h.deliveries.filter((d) => (d.event.data.object as { id?: string }).id === discount.id).map((d) => d.event.type);
    expect(events).toEqual(["customer.discount.created", "customer.discount.deleted"]);
  });

  it("forever, amount off: every invoice, never below zero, and not on prorations", async () => {
    const { customer, clock } = await payingCustomer("forever@example.com");
    const coupon = await h.stripe.coupons.create({ amount_off: 250, currency: "usd", duration: "forever" });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], discounts: [{ coupon: coupon.id }] });
    const invoices = await renew(sub, clock, 3);
    expect(invoices.map((i) => i.total)).toEqual([750, 750, 750, 750]);
    // An upgrade's proration lines are not discountable; the next renewal is discounted on the new price.
    const itemId = sub.items.data[0]?.id ?? "";
    const upgraded = await h.stripe.subscriptions.update(sub.id, { items: [{ id: itemId, price: catalog.pro.id }], proration_behavior: "create_prorations", expand: ["latest_invoice"] });
    const proration = upgraded.latest_invoice as Stripe.Invoice;
    expect(proration.billing_reason).toBe("subscription_update");
    expect(proration.total_discount_amounts).toEqual([]);
    expect(proration.total).toBe(proration.subtotal);
    const after = await renew(sub, clock, 1);
    expect(after.at(-1)?.total).toBe(2750);
    // A bad discount on subscription create is refused before anything is made.
    const missing = await rejection(h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], discounts: [{ coupon: "NO_SUCH" }] }));
    expect(missing).toMatchObject({ statusCode: 404, param: "discounts[0][coupon]" });
    // Changing the discount later is not modelled, and says so instead of ignoring it.
    const later = await rejection(h.stripe.subscriptions.update(sub.id, { discounts: [{ coupon: coupon.id }] }));
    expect(later).toMatchObject({ statusCode: 400, param: "discounts" });
  });
});

describe("automatic tax", () => {
  it("adds the sandbox's fixed rate on Checkout with automatic_tax, after the discount, on every invoice", async () => {
    const coupon = await h.stripe.coupons.create({ percent_off: 20, duration: "once" });
    const code = uniqueCode("TAXED");
    await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code });
    const customer = await h.stripe.customers.create({ email: "taxed@example.com" });
    const session = await h.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      customer_update: { address: "auto", name: "auto" },
      billing_address_collection: "required",
      line_items: [{ price: catalog.basic.id, quantity: 1 }],
      allow_promotion_codes: true,
      automatic_tax: { enabled: true },
      success_url: "https://app.test/ok",
    });
    expect(session.automatic_tax).toMatchObject({ enabled: true, status: "requires_location_inputs" });
    let page = await (await post(`${session.url}/promotion`, { code })).text();
    expect(page).toContain(`Sales tax (${SANDBOX_TAX_PERCENT}%)`);
    expect(page).toContain('data-testid="checkout-tax">$0.80<');
    expect(page).toContain('data-testid="checkout-total">$8.80<');
    page = await (await post(session.url ?? "", pageFields("4242424242424242"))).text();
    const done = await h.stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({ status: "complete", amount_total: 880, automatic_tax: { enabled: true, status: "complete" }, total_details: { amount_discount: 200, amount_tax: 80 } });
    const sub = await h.stripe.subscriptions.retrieve(String(done.subscription), { expand: ["latest_invoice"] });
    expect(sub.automatic_tax.enabled).toBe(true);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({
      subtotal: 1000,
      total_excluding_tax: 800,
      total: 880,
      amount_paid: 880,
      automatic_tax: { enabled: true, status: "complete" },
      total_taxes: [{ amount: 80, taxable_amount: 800, tax_behavior: "exclusive", taxability_reason: "standard_rated", type: "tax_rate_details", tax_rate_details: { tax_rate: SANDBOX_TAX_RATE_ID } }],
    });
    expect(invoice.lines.data[0]?.taxes).toEqual([expect.objectContaining({ amount: 80, taxable_amount: 800 })]);
    const rate = await h.stripe.taxRates.retrieve(SANDBOX_TAX_RATE_ID);
    expect(rate).toMatchObject({ percentage: SANDBOX_TAX_PERCENT, inclusive: false, active: true });
    const hosted = await (await fetch(invoice.hosted_invoice_url ?? "")).text();
    expect(hosted).toContain('data-testid="invoice-tax">$0.80<');
    expect(hosted).toContain(`Sales tax (${SANDBOX_TAX_PERCENT}%)`);

    // The renewal: no discount left, tax on the full price.
    const clock = String((await h.stripe.customers.retrieve(customer.id) as Stripe.Customer).test_clock);
    const invoices = await renew(sub, clock, 1);
    expect(invoices.at(-1)).toMatchObject({ subtotal: 1000, total: 1100, total_taxes: [expect.objectContaining({ amount: 100 })] });
  });

  it("takes tax out of an inclusive price, needs an address, and adds nothing without automatic_tax", async () => {
    const product = await h.stripe.products.create({ name: "Inclusive" });
    const inclusive = await h.stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 1100, recurring: { interval: "month" }, tax_behavior: "inclusive" });
    const { customer } = await payingCustomer("inclusive@example.com");
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: inclusive.id }], automatic_tax: { enabled: true }, expand: ["latest_invoice"] });
    expect(sub.latest_invoice as Stripe.Invoice).toMatchObject({
      subtotal: 1100,
      total: 1100,
      total_excluding_tax: 1000,
      total_taxes: [expect.objectContaining({ amount: 100, taxable_amount: 1000, tax_behavior: "inclusive" })],
    });

    const nowhere = await h.stripe.customers.create({ email: "nowhere@example.com", payment_method: "pm_card_visa", invoice_settings: { default_payment_method: "pm_card_visa" } });
    const error = await rejection(h.stripe.subscriptions.create({ customer: nowhere.id, items: [{ price: catalog.basic.id }], automatic_tax: { enabled: true } }));
    expect(error).toMatchObject({ statusCode: 400, code: "customer_tax_location_invalid" });

    const plain = await h.stripe.subscriptions.create({ customer: nowhere.id, items: [{ price: catalog.basic.id }], expand: ["latest_invoice"] });
    expect(plain.latest_invoice as Stripe.Invoice).toMatchObject({ total: 1000, total_taxes: [], automatic_tax: { enabled: false } });
  });
});

describe("the portal's plan switch preview", () => {
  it("includes the automatic tax, so what it shows is what the switch then charges", async () => {
    const config = await h.stripe.billingPortal.configurations.create({
      features: {
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
    const { customer, clock } = await payingCustomer("switch-tax@example.com");
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], automatic_tax: { enabled: true } });
    // Ten days into the period, so both proration lines are partial amounts.
    const start = sub.items.data[0]?.current_period_start ?? 0;
    await h.stripe.testHelpers.testClocks.advance(clock, { frozen_time: start + 10 * 24 * 3600 });
    const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id });
    const preview = await (await post(`${portal.url}/switch`, { price: catalog.pro.id })).text();
    expect(preview).toContain(`Sales tax (${SANDBOX_TAX_PERCENT}%)`);
    const due = /Due today<\/dt><dd class="total">\$(\d+\.\d\d)<\/dd>/.exec(preview)?.[1];
    expect(due).toBeDefined();
    expect((await post(`${portal.url}/switch`, { price: catalog.pro.id, confirm: "1" })).status).toBe(303);
    const switched = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    const invoice = switched.latest_invoice as Stripe.Invoice;
    expect(invoice.billing_reason).toBe("subscription_update");
    expect(invoice.total_taxes?.[0]?.amount).toBeGreaterThan(0);
    expect((invoice.total / 100).toFixed(2)).toBe(due);
  });
});

describe("the portal's card update", () => {
  it("declines every card Checkout declines, with Checkout's message, and keeps the card on file", async () => {
    const customer = await h.stripe.customers.create({ email: "portal-card@example.com" });
    const session = await h.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      billing_address_collection: "required",
      line_items: [{ price: catalog.basic.id, quantity: 1 }],
      success_url: "https://app.test/ok",
    });
    await completeCheckout(h.sandbox, session.id);
    const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: configId });
    for (const card of ["4000 0000 0000 0002", "4000000000009995", "4000000000009987"]) {
      const other = await h.stripe.checkout.sessions.create({
        mode: "subscription",
        customer_email: "checkout-decline@example.com",
        billing_address_collection: "required",
        line_items: [{ price: catalog.basic.id, quantity: 1 }],
        success_url: "https://app.test/ok",
      });
      const checkout = await completeCheckout(h.sandbox, other.id, { card });
      expect(checkout.status).toBe(402);
      const checkoutMessage = (checkout.body as { error: { message: string } }).error.message;
      const response = await post(`${portal.url}/card`, { card, exp: "12 / 39", cvc: "123" });
      expect({ card, status: response.status }).toEqual({ card, status: 402 });
      const html = await response.text();
      expect(html).toContain(`<div role="alert">${checkoutMessage}</div>`);
      expect(html).not.toContain("was saved");
    }
    expect((await h.stripe.customers.listPaymentMethods(customer.id)).data.map((pm) => pm.card?.last4)).toEqual(["4242"]);
    const response = await post(`${portal.url}/card`, { card: "5555555555554444", exp: "12 / 39", cvc: "123" });
    expect(response.status).toBe(303);
    expect(decodeURIComponent(response.headers.get("location") ?? "")).toContain("Your card ending in 4444 was saved.");
  });
});

describe("fixture fields", () => {
  it("carries every top-level field of Stripe's fixtures for coupons, promotion codes, discounts and tax rates", async () => {
    type FixtureFields = Record<string, { fields: string[]; idPrefix: string | null }>;
    const fixtures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "fixture-fields.json"), "utf8")) as FixtureFields;
    const coupon = await h.stripe.coupons.create({ percent_off: 10, duration: "forever" });
    const promo = await h.stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id } });
    const { customer } = await payingCustomer("fixture-discount@example.com");
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], discounts: [{ promotion_code: promo.id }], expand: ["discounts"] });
    const spare = await h.stripe.coupons.create({ percent_off: 1 });
    const cases: Array<[string, object]> = [
      ["coupon", coupon],
      ["promotion_code", promo],
      ["discount", sub.discounts[0] as Stripe.Discount],
      ["tax_rate", await h.stripe.taxRates.retrieve(SANDBOX_TAX_RATE_ID)],
      ["deleted_coupon", await h.stripe.coupons.del(spare.id)],
    ];
    for (const [resource, object] of cases) {
      const fixture = fixtures[resource];
      if (!fixture) throw new Error(`no fixture for ${resource}`);
      expect({ resource, missing: fixture.fields.filter((key) => !(key in object)) }).toEqual({ resource, missing: [] });
      // Coupon ids are the merchant's own strings; the others carry Stripe's prefix.
      if (!resource.endsWith("coupon") && "id" in object && typeof object.id === "string") {
        expect({ resource, prefix: object.id.split("_")[0] }).toEqual({ resource, prefix: fixture.idPrefix });
      }
    }
  });
});

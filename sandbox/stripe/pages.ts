// Server-rendered hosted pages: Checkout, the customer portal, hosted invoices and the admin overview. Plain forms and
// 303 redirects, no JavaScript, so a person, a browser test or `fetch` can drive them the same way.
import type Stripe from "stripe";
import { readCard, readExpiry } from "./cards";
import type { Deliveries } from "./delivery";
import { type CheckoutCompletion, type Engine, type RequestContext, addInterval, formatAmount, formatDate, idOf } from "./engine";
import { SANDBOX_TAX_PERCENT, describeCoupon, discountLabel, previewAdjustments, priceCheckoutSession, redeemableCode } from "./discounts";
import { StripeApiError, invalidRequest } from "./errors";
import type { Params } from "./form";
import { obj, str } from "./params";

export interface PageResult {
  status?: number;
  html?: string;
  redirect?: string;
}

const DEFAULT_ADDRESS = { line1: "1 Sandbox Street", city: "San Francisco", postal_code: "94107", country: "US" };

/**
 * Reads the Checkout completion fields shared by the hosted form and `/_sandbox/checkout/sessions/:id/complete`.
 * The test endpoint may leave out the card (4242 then pays) and the address; the hosted form, like Stripe's, may not.
 */
export function completionFromParams(params: Params, defaults: { address: boolean; card: boolean }): CheckoutCompletion {
  const address = obj(params, "address");
  const expiry = str(params, "exp");
  if (!defaults.card && !str(params, "card")) {
    throw new StripeApiError(402, "card_error", "incomplete_number", "Your card number is incomplete.", "card");
  }
  if (!defaults.card && !expiry) {
    throw new StripeApiError(402, "card_error", "incomplete_expiry", "Your card's expiration date is incomplete.", "exp");
  }
  const parsedExpiry = expiry ? readExpiry(expiry) : null;
  if (expiry && !parsedExpiry) {
    throw new StripeApiError(402, "card_error", "invalid_expiry_year", "Your card's expiration date is invalid or in the past.", "exp");
  }
  const given = address
    ? {
        line1: str(address, "line1"),
        city: str(address, "city"),
        postal_code: str(address, "postal_code"),
        country: str(address, "country"),
        state: str(address, "state"),
      }
    : undefined;
  return {
    card: str(params, "card") || "4242424242424242",
    expiry: parsedExpiry ?? undefined,
    email: str(params, "email") || undefined,
    name: str(params, "name") || undefined,
    address: given ?? (defaults.address ? DEFAULT_ADDRESS : undefined),
    promotionCode: str(params, "promotion_code") || undefined,
  };
}

const esc = (value: unknown): string =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

// Close to Stripe's own hosted pages: white and neutral greys, system font, 16 px inputs (no zoom on phones), one
// full-width primary button, an orange test-mode badge. Phones get edge-to-edge sections with side padding.
const CSS = `
:root { color-scheme: light; --ink: #1a1a1a; --text: #30313d; --muted: #6a7383; --line: #e0e0e0; --field: #d5dbe1;
  --primary: #0570de; --primary-hover: #0559b3; --focus: rgba(5, 112, 222, .35); --bad: #b3093c; --bad-bg: #fff5f7; --ok: #1b6b3a; --ok-bg: #f0fbf4; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Ubuntu, sans-serif;
  color: var(--text); background: #fff; -webkit-font-smoothing: antialiased; overflow-wrap: anywhere; }
main { max-width: 30rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
main.wide { max-width: 72rem; }
main.split { max-width: 60rem; }
@media (min-width: 900px) {
  main { padding: 3rem 2rem; }
  main.split { display: grid; grid-template-columns: 1fr 1fr; gap: 4rem; align-items: start; }
  main.split > .summary { position: sticky; top: 3rem; }
}
.summary { padding-bottom: 1.5rem; border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; }
@media (min-width: 900px) { .summary { border: 0; margin: 0; padding: 0; } }
.merchant { display: flex; align-items: center; gap: .5rem; flex-wrap: wrap; font-weight: 600; color: var(--ink); font-size: .95rem; }
.mark { display: inline-grid; place-items: center; width: 1.75rem; height: 1.75rem; border-radius: 50%; background: #f0f2f5; color: var(--muted); font-size: .8rem; }
.test { padding: .05rem .4rem; border-radius: 4px; background: #ffde92; color: #7a3b00; font-size: .7rem; font-weight: 700; letter-spacing: .04em; }
h1 { font-size: 1.5rem; font-weight: 600; color: var(--ink); margin: 1.25rem 0 .5rem; line-height: 1.25; }
h1.lead { font-size: 1rem; font-weight: 500; color: var(--muted); margin: 1.5rem 0 .25rem; }
h2 { font-size: 1rem; font-weight: 600; color: var(--ink); margin: 2rem 0 .75rem; }
.price { font-size: 2.25rem; font-weight: 600; color: var(--ink); letter-spacing: -.02em; line-height: 1.2; margin: 0 0 .25rem; }
.price small { font-size: .9rem; font-weight: 500; color: var(--muted); letter-spacing: 0; }
.muted { color: var(--muted); } .small { font-size: .85rem; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 4px; background: #ebeef1; color: var(--text); font-size: .8rem; font-weight: 500; vertical-align: middle; }
.badge.good { background: #d7f7c2; color: #05690d; } .badge.warn { background: #fcedb9; color: #a82c00; } .badge.bad { background: #ffe7f2; color: #b3093c; }
fieldset { border: 0; margin: 0 0 1.25rem; padding: 0; min-width: 0; }
legend { font-size: .95rem; font-weight: 600; color: var(--ink); margin-bottom: .5rem; padding: 0; }
label { display: block; font-size: .85rem; font-weight: 500; color: var(--text); margin: .75rem 0 .3rem; }
input, select { display: block; width: 100%; min-width: 0; padding: .6rem .75rem; font: inherit; font-size: 1rem; color: var(--ink); background: #fff;
  border: 1px solid var(--field); border-radius: 6px; box-shadow: 0 1px 1px rgba(0,0,0,.03), 0 3px 6px rgba(0,0,0,.02); transition: border-color .15s, box-shadow .15s; }
input::placeholder { color: #a3acb9; }
select { appearance: none; -webkit-appearance: none; padding-right: 2.25rem; cursor: pointer;
  background: #fff url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='12' height='12' viewBox='0 0 12 12'%3E%3Cpath d='M2.5 4.5 6 8l3.5-3.5' fill='none' stroke='%236a7383' stroke-width='1.6' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E") no-repeat right .8rem center; }
input:focus, select:focus { outline: none; border-color: var(--primary); box-shadow: 0 0 0 3px var(--focus); }
button:focus-visible, a:focus-visible { outline: none; box-shadow: 0 0 0 3px var(--focus); border-radius: 6px; }
.row { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 .75rem; }
button { font: inherit; font-weight: 600; cursor: pointer; border-radius: 6px; }
form > button[type=submit], button.primary { display: block; width: 100%; margin-top: 1.5rem; padding: .8rem 1rem; font-size: 1rem; color: #fff;
  background: var(--primary); border: 0; box-shadow: 0 1px 2px rgba(0,0,0,.12); }
form > button[type=submit]:hover, button.primary:hover { background: var(--primary-hover); }
button.secondary, form > button.secondary[type] { display: inline-block; width: auto; margin: 0; padding: .5rem .9rem; font-size: .9rem; color: var(--ink); background: #fff;
  border: 1px solid var(--field); box-shadow: 0 1px 1px rgba(0,0,0,.04); }
button.secondary:hover, form > button.secondary[type]:hover { background: #f6f8fa; }
button.danger { color: var(--bad); }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: 1rem; }
.actions form > button[type=submit] { margin-top: 0; }
[role=alert] { margin: 1rem 0; padding: .75rem 1rem; color: var(--bad); background: var(--bad-bg); border: 1px solid #fbc5d4; border-radius: 6px; font-size: .95rem; }
[role=status] { margin: 1rem 0; padding: .75rem 1rem; color: var(--ok); background: var(--ok-bg); border: 1px solid #b7ebc6; border-radius: 6px; font-size: .95rem; }
.hint { margin: 1rem 0 0; font-size: .85rem; color: var(--muted); }
.footer { margin-top: 2rem; font-size: .8rem; color: var(--muted); text-align: center; }
a { color: var(--primary); text-decoration: none; } a:hover { text-decoration: underline; }
.back { margin: 0 0 1rem; font-size: .9rem; } .back a { color: var(--muted); font-weight: 500; }
.section { border-top: 1px solid var(--line); padding-top: .25rem; margin-top: 1.75rem; }
.plan { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; justify-content: space-between; padding: .9rem 1rem; border: 1px solid var(--line); border-radius: 8px; margin: .5rem 0; }
.plan strong { color: var(--ink); }
.box { padding: 1rem; border: 1px solid var(--line); border-radius: 8px; background: #f9fafb; margin: 1rem 0; }
dl.sum { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: .4rem 0; margin: 1rem 0; }
dl.sum dt { color: var(--muted); } dl.sum dd { margin: 0; padding-left: 1rem; text-align: right; color: var(--ink); font-variant-numeric: tabular-nums; }
dl.sum .total { font-weight: 600; color: var(--ink); border-top: 1px solid var(--line); padding-top: .5rem; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; } th, td { text-align: left; padding: .55rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; font-weight: 500; color: var(--muted); }
main.wide td, main.wide th { overflow-wrap: normal; }
code { font-size: .85em; }
`;

/** The top of every hosted page: the business, and the test-mode badge Stripe shows in test mode. */
const merchant = (name: string) =>
  `<div class="merchant"><span class="mark" aria-hidden="true">${esc(name.charAt(0).toUpperCase())}</span>${esc(name)}<span class="test">TEST MODE</span></div>`;

const footer = `<p class="footer">Stripe sandbox · no real payments</p>`;

function layout(title: string, body: string, variant: "narrow" | "wide" | "split" = "narrow"): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><link rel="icon" href="data:,"><style>${CSS}</style></head>
<body><main${variant === "narrow" ? "" : ` class="${variant}"`}>${body}</main></body>
</html>`;
}

const COUNTRIES: Array<[string, string]> = [
  ["US", "United States"],
  ["CA", "Canada"],
  ["GB", "United Kingdom"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["NL", "Netherlands"],
  ["ES", "Spain"],
  ["IT", "Italy"],
  ["AU", "Australia"],
  ["JP", "Japan"],
  ["IN", "India"],
  ["BR", "Brazil"],
];

function perInterval(price: Stripe.Price): string {
  const r = price.recurring;
  if (!r) return formatAmount(price.unit_amount ?? 0, price.currency);
  const unit = r.interval_count === 1 ? r.interval : `${r.interval_count} ${r.interval}s`;
  return `${formatAmount(price.unit_amount ?? 0, price.currency)} per ${unit}`;
}

/** "per month", "per 3 months". */
function perIntervalUnit(price: Stripe.Price): string {
  const r = price.recurring;
  if (!r) return "";
  return r.interval_count === 1 ? `per ${r.interval}` : `per ${r.interval_count} ${r.interval}s`;
}

/** "monthly", "yearly", "every 3 months". */
function billedEvery(price: Stripe.Price): string {
  const r = price.recurring;
  if (!r) return "once";
  return r.interval_count === 1 ? `${r.interval}ly`.replace("dayly", "daily") : `every ${r.interval_count} ${r.interval}s`;
}

/** "−$3.00" for a credit. */
const formatSigned = (amount: number, currency: string) => (amount < 0 ? `−${formatAmount(-amount, currency)}` : formatAmount(amount, currency));

/** The business name the hosted pages show at the top, as Stripe shows the account's. */
const MERCHANT = "Stripe sandbox";

function cardFields(): string {
  return `
  <label for="card">Card number</label>
  <input id="card" name="card" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required>
  <div class="row">
    <div><label for="exp">Expiry</label><input id="exp" name="exp" autocomplete="cc-exp" placeholder="MM / YY" required></div>
    <div><label for="cvc">CVC</label><input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" required></div>
  </div>`;
}

export function createPages(engine: Engine, deps: { deliveries: Deliveries }) {
  const s = () => engine.state;

  // ---- Checkout ----------------------------------------------------------------------------------------------

  const checkoutPage = (session: Stripe.Checkout.Session, error: string | null, values: Params): string => {
    const line = s().checkoutSetup[session.id]?.lines[0];
    const price = line ? s().prices[line.price] : undefined;
    const customer = session.customer ? s().customers[idOf(session.customer) ?? ""] : undefined;
    const email = str(values, "email") ?? customer?.email ?? session.customer_email ?? "";
    const address = obj(values, "address") ?? {};
    const country = str(address, "country") ?? customer?.address?.country ?? "US";
    const addressRequired = session.billing_address_collection === "required";
    const req = addressRequired ? " required" : "";
    const back = session.cancel_url ? `<p class="back"><span aria-hidden="true">← </span><a href="${esc(session.cancel_url)}">Back</a></p>` : "";
    if (session.status !== "open") {
      return layout("Checkout", `${merchant(MERCHANT)}<h1>This checkout has ${session.status === "complete" ? "been completed" : "expired"}</h1>${back}`);
    }
    const productName = price ? engine.productName(price) : "Subscription";
    // A payment-mode session buys once: "Pay", not "Subscribe".
    const verb = session.mode === "payment" ? "Pay" : "Subscribe";
    const heading = session.mode === "payment" ? `Pay ${MERCHANT}` : `Subscribe to ${productName}`;
    const payer = customer?.email ?? session.customer_email;
    const amount = price ? formatAmount(price.unit_amount ?? 0, price.currency) : "";
    const currency = price?.currency ?? session.currency ?? "usd";
    const redemption = s().checkoutSetup[session.id]?.redemption ?? null;
    const coupon = redemption ? s().coupons[redemption.coupon] : undefined;
    const promo = redemption?.promotionCode ? s().promotionCodes[redemption.promotionCode] : undefined;
    const totals = session.total_details ?? { amount_discount: 0, amount_tax: 0, amount_shipping: 0 };
    const dueToday = formatAmount(session.amount_total ?? 0, currency);
    const discountRow =
      totals.amount_discount > 0
        ? `<dt>${esc(promo?.code ?? coupon?.name ?? redemption?.coupon ?? "Discount")}<br><span class="small">${esc(coupon ? describeCoupon(coupon) : "")}</span></dt><dd data-testid="checkout-discount">${esc(formatSigned(-totals.amount_discount, currency))}</dd>`
        : "";
    const taxRow = session.automatic_tax.enabled
      ? `<dt>Sales tax (${SANDBOX_TAX_PERCENT}%)</dt><dd data-testid="checkout-tax">${esc(formatAmount(totals.amount_tax, currency))}</dd>`
      : "";
    const promotionForm = !session.allow_promotion_codes
      ? ""
      : redemption?.promotionCode
        ? `<form method="post" action="/checkout/${esc(session.id)}/promotion" class="actions"><input type="hidden" name="remove" value="1">
            <span class="badge good">${esc(promo?.code ?? "")} applied</span><button type="submit" class="secondary">Remove</button></form>`
        : `<form method="post" action="/checkout/${esc(session.id)}/promotion">
            <label for="promotion_code">Promotion code</label>
            <div class="actions" style="margin-top:0;flex-wrap:nowrap"><input id="promotion_code" name="code" autocomplete="off" value="${esc(str(values, "code") ?? "")}">
            <button type="submit" class="secondary" style="flex:none">Apply</button></div></form>`;
    return layout(
      heading,
      `<section class="summary" aria-label="Order summary">
        ${back}
        ${merchant(MERCHANT)}
        <h1 class="lead">${esc(heading)}</h1>
        ${price ? `<p class="price">${esc(amount)} <small>${esc(perIntervalUnit(price))}</small></p>` : ""}
        ${price ? `<dl class="sum">
          <dt>${esc(productName)}<br><span class="small">Billed ${esc(billedEvery(price))}</span></dt><dd>${esc(amount)}</dd>
          ${discountRow}${taxRow}
          <dt class="total">Total due today</dt><dd class="total" data-testid="checkout-total">${esc(dueToday)}</dd>
        </dl>` : ""}
        ${promotionForm}
      </section>
      <section aria-label="Payment">
      ${error ? `<div role="alert">${esc(error)}</div>` : ""}
      <form method="post" action="/checkout/${esc(session.id)}">
        <fieldset><legend>Contact information</legend>
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" value="${esc(email)}" required>
        ${payer ? `<p class="hint">Paying as <strong>${esc(payer)}</strong></p>` : ""}
        </fieldset>
        <fieldset><legend>Payment method</legend>
        ${cardFields()}
        <label for="name">Name on card</label>
        <input id="name" name="name" autocomplete="cc-name" value="${esc(str(values, "name") ?? customer?.name ?? "")}" required>
        </fieldset>
        <fieldset><legend>Billing address</legend>
        <label for="country">Country</label>
        <select id="country" name="address[country]" autocomplete="country">
          ${COUNTRIES.map(([code, label]) => `<option value="${code}"${code === country ? " selected" : ""}>${esc(label)}</option>`).join("")}
        </select>
        <label for="line1">Address line 1</label>
        <input id="line1" name="address[line1]" autocomplete="address-line1" value="${esc(str(address, "line1") ?? "")}"${req}>
        <div class="row">
          <div><label for="city">City</label><input id="city" name="address[city]" autocomplete="address-level2" value="${esc(str(address, "city") ?? "")}"${req}></div>
          <div><label for="postal_code">Postal code</label><input id="postal_code" name="address[postal_code]" autocomplete="postal-code" value="${esc(str(address, "postal_code") ?? "")}"${req}></div>
        </div>
        </fieldset>
        <p class="hint">Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined. Any future expiry, any CVC.</p>
        <button type="submit">${verb}</button>
      </form>
      ${footer}
      </section>`,
      "split",
    );
  };

  const submitCheckout = (session: Stripe.Checkout.Session, params: Params, ctx: RequestContext): PageResult => {
    try {
      const completion = completionFromParams(params, { address: false, card: false });
      if (!completion.email) throw invalidRequest("Enter your email address.", "email");
      const completed = engine.completeCheckout(engine.requireOpenSession(session.id), completion, ctx);
      if (!completed.success_url) {
        const done = completed.mode === "payment" ? "Your payment was received." : "Your subscription is active.";
        return { html: layout("Thank you", `${merchant(MERCHANT)}<h1>Thank you</h1><p role="status">${done}</p>`) };
      }
      return { redirect: completed.success_url.replaceAll("{CHECKOUT_SESSION_ID}", completed.id) };
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      const message = error.param === "address" ? "Enter your full billing address." : error.message;
      return { status: error.status, html: checkoutPage(session, message, params) };
    }
  };

  /** The hosted page's "Apply" (or "Remove") for a promotion code: the summary then shows the discount. */
  const applyPromotion = (session: Stripe.Checkout.Session, params: Params): PageResult => {
    const setup = s().checkoutSetup[session.id];
    try {
      const open = engine.requireOpenSession(session.id);
      if (!open.allow_promotion_codes || !setup) throw invalidRequest("This checkout does not accept promotion codes.");
      if (str(params, "remove") === "1") {
        setup.redemption = null;
      } else {
        const line = setup.lines[0];
        const price = line ? s().prices[line.price] : undefined;
        const customer = open.customer ? (idOf(open.customer) ?? null) : null;
        setup.redemption = redeemableCode(s(), str(params, "code") ?? "", {
          now: customer ? engine.nowForCustomer(customer) : Math.floor(Date.now() / 1000),
          customer,
          amount: (price?.unit_amount ?? 0) * (line?.quantity ?? 1),
          currency: price?.currency ?? open.currency ?? "usd",
        });
      }
      priceCheckoutSession(s(), open, setup);
      return { html: checkoutPage(open, null, {}) };
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      return { status: error.status, html: checkoutPage(session, error.message, params) };
    }
  };

  // ---- Portal ------------------------------------------------------------------------------------------------

  const portalSubscription = (customerId: string): Stripe.Subscription | undefined => {
    const subs = Object.values(s().subscriptions).filter((sub) => sub.customer === customerId);
    return [...subs].reverse().find((sub) => sub.status !== "canceled" && sub.status !== "incomplete_expired") ?? subs.at(-1);
  };

  const STATUS_WORDS: Record<string, [string, string]> = {
    active: ["Active", "good"],
    trialing: ["Trial", "good"],
    past_due: ["Past due", "warn"],
    unpaid: ["Unpaid", "bad"],
    incomplete: ["Incomplete", "warn"],
    incomplete_expired: ["Expired", ""],
    canceled: ["Canceled", ""],
    paused: ["Paused", ""],
    paid: ["Paid", "good"],
    open: ["Open", "warn"],
    void: ["Void", ""],
    uncollectible: ["Uncollectible", "bad"],
    draft: ["Draft", ""],
  };
  const statusBadge = (status: string | null) => {
    const [word, tone] = STATUS_WORDS[status ?? ""] ?? [status ?? "", ""];
    return `<span class="badge${tone ? ` ${tone}` : ""}">${esc(word)}</span>`;
  };

  /** "Refunded" (or "Partly refunded") next to a paid invoice whose charge was given back, as Stripe's portal shows it. */
  const refundBadge = (invoice: Stripe.Invoice): string => {
    const payment = Object.values(s().invoicePayments).find((p) => p.invoice === invoice.id && p.payment.charge);
    const charge = payment ? s().charges[String(payment.payment.charge)] : undefined;
    if (!charge || charge.amount_refunded === 0) return "";
    return ` <span class="badge" data-testid="invoice-refunded">${charge.refunded ? "Refunded" : "Partly refunded"}</span>`;
  };

  /** The portal's left column: the way back to the app, the business and the customer. */
  const portalSummary = (session: Stripe.BillingPortal.Session, config: Stripe.BillingPortal.Configuration, customer: Stripe.Customer) => `
      <section class="summary" aria-label="Account">
        ${session.return_url ? `<p class="back"><span aria-hidden="true">← </span><a href="${esc(session.return_url)}">Return to ${esc(config.name ?? "the app")}</a></p>` : ""}
        ${merchant(MERCHANT)}
        <h1>${esc(config.business_profile.headline ?? "Manage your subscription")}</h1>
        <p class="muted">${esc(customer.email ?? customer.id)}</p>
      </section>`;

  const portalPage = (session: Stripe.BillingPortal.Session, notice: string | null, error: string | null): string => {
    const config = s().portalConfigurations[idOf(session.configuration) ?? ""];
    const customer = s().customers[idOf(session.customer) ?? ""];
    if (!config || !customer) return layout("Billing", `${merchant(MERCHANT)}<h1>This portal session is no longer valid</h1>`);
    const f = config.features;
    const sub = portalSubscription(customer.id);
    // A card-update flow (flow_data) opens on the card form alone, until it is completed.
    if (session.flow?.type === "payment_method_update" && !notice) return cardUpdatePage(session, config, customer, sub ?? null, error);
    const item = sub?.items.data[0];
    const live = sub && sub.status !== "canceled" && sub.status !== "incomplete_expired";
    const parts: string[] = [];
    parts.push(portalSummary(session, config, customer));
    parts.push(`<section aria-label="Subscription">`);
    if (notice) parts.push(`<p role="status">${esc(notice)}</p>`);
    if (error) parts.push(`<div role="alert">${esc(error)}</div>`);
    parts.push(`<h2>Current plan</h2>`);
    if (sub && item) {
      const ends = sub.cancel_at ?? (sub.cancel_at_period_end ? item.current_period_end : null);
      parts.push(`<div class="plan"><div><p style="margin:0"><strong>${esc(engine.productName(item.price))}</strong> ${statusBadge(sub.status)}</p>
        <p style="margin:.25rem 0 0" class="muted">${esc(perInterval(item.price))}</p></div></div>`);
      const discounts = live ? sub.discounts.map((d) => (typeof d === "string" ? d : d.id)) : [];
      for (const discountId of discounts) {
        const discount = s().discounts[discountId];
        const until = discount?.end ? ` until ${formatDate(discount.end)}` : "";
        parts.push(`<p data-testid="portal-discount"><span class="badge good">${esc(discountLabel(s(), discountId))}</span>${esc(until)}</p>`);
      }
      if (!live) parts.push(`<p>Ended on ${esc(formatDate(sub.ended_at ?? item.current_period_end))}</p>`);
      else if (ends !== null) parts.push(`<p>Cancels on ${esc(formatDate(ends))}</p>`);
      else parts.push(`<p>Renews on ${esc(formatDate(item.current_period_end))}</p>`);
      const upcoming = live ? engine.scheduledSwitch(sub) : null;
      if (upcoming) {
        parts.push(`<p data-testid="scheduled-switch">Switches to <strong>${esc(engine.productName(upcoming.price))}</strong> on ${esc(formatDate(upcoming.at))}</p>
          <form method="post" action="/portal/${esc(session.id)}/keep"><button type="submit" class="secondary">Keep ${esc(engine.productName(item.price))}</button></form>`);
      }
      if (sub.status === "past_due") parts.push(`<div role="alert">Your last payment failed. Update your card to keep your subscription.</div>`);
    } else {
      parts.push(`<p class="muted">No subscription.</p>`);
    }
    if (live && item && f.subscription_update.enabled) {
      const options = (f.subscription_update.products ?? []).flatMap((p) => p.prices).filter((priceId) => priceId !== item.price.id);
      const prices = options.map((priceId) => s().prices[priceId]).filter((price): price is Stripe.Price => Boolean(price?.active));
      if (prices.length > 0) {
        parts.push(`<h2>Change plan</h2>`);
        // A product offered at more than one interval (or the current product at another) names the interval.
        const productOf = (p: Stripe.Price) => String(typeof p.product === "string" ? p.product : p.product.id);
        const intervalNote = (p: Stripe.Price) =>
          prices.filter((other) => productOf(other) === productOf(p)).length > 1 || productOf(p) === productOf(item.price) ? ` (${perIntervalUnit(p)})` : "";
        for (const price of prices) {
          parts.push(`<div class="plan"><div><strong>${esc(engine.productName(price))}</strong><br><span class="muted">${esc(perInterval(price))}</span></div>
            <form method="post" action="/portal/${esc(session.id)}/switch" class="inline">
            <input type="hidden" name="price" value="${esc(price.id)}">
            <button type="submit" class="secondary">Switch to ${esc(engine.productName(price))}${esc(intervalNote(price))}</button></form></div>`);
        }
      }
    }
    if (live && f.subscription_cancel.enabled) {
      const scheduled = sub.cancel_at !== null || sub.cancel_at_period_end;
      parts.push(
        scheduled
          ? `<form method="post" action="/portal/${esc(session.id)}/undo"><button type="submit">Don't cancel</button></form>`
          : `<div class="actions"><form method="post" action="/portal/${esc(session.id)}/cancel" class="inline"><button type="submit" class="secondary danger">Cancel subscription</button></form></div>`,
      );
    }
    if (f.payment_method_update.enabled) {
      const pmId = (sub && idOf(sub.default_payment_method)) ?? idOf(customer.invoice_settings.default_payment_method);
      const pm = pmId ? s().paymentMethods[pmId] : undefined;
      parts.push(`<div class="section"><h2>Payment method</h2>
        <p>${pm?.card ? `${esc(pm.card.brand.charAt(0).toUpperCase() + pm.card.brand.slice(1))} ending in ${esc(pm.card.last4)}` : "No card on file."}</p>
        <form method="post" action="/portal/${esc(session.id)}/card">${cardFields()}<button type="submit">Update card</button></form></div>`);
    }
    if (f.invoice_history.enabled) {
      const invoices = Object.values(s().invoices).filter((inv) => inv.customer === customer.id && inv.status !== "draft").reverse();
      parts.push(`<div class="section"><h2>Invoice history</h2>`);
      parts.push(
        invoices.length === 0
          ? `<p class="muted">No invoices yet.</p>`
          : `<div class="scroll"><table><thead><tr><th>Date</th><th>Amount</th><th>Status</th><th>Invoice</th></tr></thead><tbody>${invoices
              .map(
                (inv) => `<tr><td>${esc(formatDate(inv.created))}</td><td>${esc(formatAmount(inv.total, inv.currency))}</td>
                <td>${statusBadge(inv.status)}${refundBadge(inv)}</td><td><a href="${esc(inv.hosted_invoice_url ?? `/invoice/${inv.id}`)}">${esc(inv.number ?? inv.id)}</a></td></tr>`,
              )
              .join("")}</tbody></table></div>`,
      );
      parts.push(`</div>`);
    }
    parts.push(footer, `</section>`);
    return layout("Billing", parts.join("\n"), "split");
  };

  /**
   * What a plan switch will do, computed the way Engine.changePrice charges it: with prorations, the unused time on
   * the old price is credited and the rest of the period on the new price charged now; a different interval restarts
   * the cycle and bills a whole new period.
   */
  const previewSwitch = (sub: Stripe.Subscription, price: Stripe.Price, prorationBehavior: string, now: number) => {
    const item = sub.items.data[0];
    if (!item) return null;
    const quantity = item.quantity ?? 1;
    const sameInterval =
      item.price.recurring?.interval === price.recurring?.interval && item.price.recurring?.interval_count === price.recurring?.interval_count;
    const remaining = Math.max(0, item.current_period_end - now);
    const total = Math.max(1, item.current_period_end - item.current_period_start);
    const prorate = prorationBehavior !== "none" && remaining > 0;
    const credit = prorate ? -Math.round(((item.price.unit_amount ?? 0) * quantity * remaining) / total) : 0;
    const charge = !sameInterval
      ? (price.unit_amount ?? 0) * quantity
      : prorate
        ? Math.round(((price.unit_amount ?? 0) * quantity * remaining) / total)
        : 0;
    const nextRenewal =
      sameInterval || !price.recurring ? item.current_period_end : addInterval(now, price.recurring.interval, price.recurring.interval_count);
    // The subscription's discount (on a new interval's full period; prorations are not discounted) and automatic tax.
    const customer = s().customers[String(sub.customer)];
    const adjusted = customer
      ? previewAdjustments(s(), sub, customer, [
          ...(credit !== 0 ? [{ amount: credit, price: item.price, proration: true }] : []),
          ...(charge !== 0 ? [{ amount: charge, price, proration: sameInterval }] : []),
        ], now)
      : { discount: 0, tax: 0, total: credit + charge };
    return { credit, charge, discount: adjusted.discount, tax: adjusted.tax, due: adjusted.total, nextRenewal, sameInterval, oldPrice: item.price };
  };

  const confirmSwitchPage = (session: Stripe.BillingPortal.Session, config: Stripe.BillingPortal.Configuration, customer: Stripe.Customer, sub: Stripe.Subscription, price: Stripe.Price): string => {
    const currentPrice = sub.items.data[0]?.price ?? null;
    const scheduledFor = engine.portalSchedulesSwitch(sub, price, config) ? (sub.items.data[0]?.current_period_end ?? null) : null;
    const preview = scheduledFor === null ? previewSwitch(sub, price, config.features.subscription_update.proration_behavior, engine.nowForCustomer(customer.id)) : null;
    const currency = price.currency;
    const name = engine.productName(price);
    const rows = preview
      ? [
          preview.credit !== 0 ? `<dt>Unused time on ${esc(engine.productName(preview.oldPrice))}</dt><dd>${esc(formatSigned(preview.credit, currency))}</dd>` : "",
          preview.charge !== 0
            ? `<dt>${preview.sameInterval ? "Remaining time on" : "First period of"} ${esc(name)}</dt><dd>${esc(formatAmount(preview.charge, currency))}</dd>`
            : "",
          preview.discount !== 0 ? `<dt>Discount</dt><dd>${esc(formatSigned(-preview.discount, currency))}</dd>` : "",
          preview.tax !== 0 ? `<dt>Sales tax (${SANDBOX_TAX_PERCENT}%)</dt><dd>${esc(formatSigned(preview.tax, currency))}</dd>` : "",
          `<dt class="total">${preview.due < 0 ? "Credit to your balance" : "Due today"}</dt><dd class="total">${esc(formatAmount(Math.abs(preview.due), currency))}</dd>`,
        ].join("")
      : "";
    return layout(
      "Confirm your new plan",
      `${portalSummary(session, config, customer)}
      <section aria-label="Confirm">
        <h2>Confirm your new plan</h2>
        <div class="plan"><div><span class="muted small">Current</span><br><strong>${esc(currentPrice ? engine.productName(currentPrice) : "")}</strong>
          <span class="muted">${currentPrice ? esc(perInterval(currentPrice)) : ""}</span></div></div>
        <div class="plan"><div><span class="muted small">New</span><br><strong>${esc(name)}</strong> <span class="muted">${esc(perInterval(price))}</span></div></div>
        ${preview ? `<dl class="sum" data-testid="proration-preview">${rows}</dl>
        <p class="muted small">Then ${esc(perInterval(price))}, next on ${esc(formatDate(preview.nextRenewal))}. Charged to your card on file${preview.due > 0 ? " now" : ""}.</p>` : ""}
        ${scheduledFor !== null ? `<p data-testid="scheduled-preview">Your plan changes to ${esc(name)} on <strong>${esc(formatDate(scheduledFor))}</strong>, at the end of the period you have paid for. Nothing is due today; then ${esc(perInterval(price))}.</p>` : ""}
        <form method="post" action="/portal/${esc(session.id)}/switch">
          <input type="hidden" name="price" value="${esc(price.id)}">
          <input type="hidden" name="confirm" value="1">
          <button type="submit">Confirm switch</button>
        </form>
        <p class="back" style="margin-top:1rem;text-align:center"><a href="/portal/${esc(session.id)}">Go back</a></p>
        ${footer}
      </section>`,
      "split",
    );
  };

  const confirmCancelPage = (session: Stripe.BillingPortal.Session, config: Stripe.BillingPortal.Configuration, customer: Stripe.Customer, sub: Stripe.Subscription): string => {
    const item = sub.items.data[0];
    const immediately = config.features.subscription_cancel.mode === "immediately";
    const productName = item ? engine.productName(item.price) : "your plan";
    const what = immediately
      ? `<p>Your ${esc(productName)} subscription ends <strong>now</strong>. You won't be charged again.</p>`
      : `<p>Your ${esc(productName)} subscription stays active until <strong>${esc(formatDate(item?.current_period_end ?? engine.nowForCustomer(customer.id)))}</strong>. After that it ends and you won't be charged again.</p>
         <p class="muted small">You can change your mind until then: the portal offers "Don't cancel".</p>`;
    return layout(
      "Cancel your subscription",
      `${portalSummary(session, config, customer)}
      <section aria-label="Confirm">
        <h2>Cancel your subscription</h2>
        <div class="box">${what}</div>
        <form method="post" action="/portal/${esc(session.id)}/cancel">
          <input type="hidden" name="confirm" value="1">
          <button type="submit">Confirm cancellation</button>
        </form>
        <p class="back" style="margin-top:1rem;text-align:center"><a href="/portal/${esc(session.id)}">Go back</a></p>
        ${footer}
      </section>`,
      "split",
    );
  };

  /** The portal's `payment_method_update` flow: the card on file and the form to replace it, nothing else. */
  const cardUpdatePage = (
    session: Stripe.BillingPortal.Session,
    config: Stripe.BillingPortal.Configuration,
    customer: Stripe.Customer,
    sub: Stripe.Subscription | null,
    error: string | null,
  ): string => {
    const pmId = (sub && idOf(sub.default_payment_method)) ?? idOf(customer.invoice_settings.default_payment_method);
    const pm = pmId ? s().paymentMethods[pmId] : undefined;
    const owed = sub?.status === "past_due" ? s().invoices[idOf(sub.latest_invoice) ?? ""] : undefined;
    return layout(
      "Update payment method",
      `${portalSummary(session, config, customer)}
      <section aria-label="Payment method">
        ${error ? `<div role="alert">${esc(error)}</div>` : ""}
        <h2>Update payment method</h2>
        ${owed?.status === "open" ? `<p data-testid="flow-amount-due">The new card pays the ${esc(formatAmount(owed.amount_due, owed.currency))} that is due now.</p>` : ""}
        <p class="muted">${pm?.card ? `Current card: ${esc(pm.card.brand.charAt(0).toUpperCase() + pm.card.brand.slice(1))} ending in ${esc(pm.card.last4)}` : "No card on file."}</p>
        <form method="post" action="/portal/${esc(session.id)}/card">${cardFields()}<button type="submit">Save card</button></form>
        ${footer}
      </section>`,
      "split",
    );
  };

  const portalAction = (session: Stripe.BillingPortal.Session, action: string, params: Params, ctx: RequestContext): PageResult => {
    const config = s().portalConfigurations[idOf(session.configuration) ?? ""];
    const customer = s().customers[idOf(session.customer) ?? ""];
    if (!config || !customer) return { status: 404, html: layout("Billing", `${merchant(MERCHANT)}<h1>This portal session is no longer valid</h1>`) };
    const sub = portalSubscription(customer.id);
    const back = (notice: string) => ({ redirect: `/portal/${session.id}?notice=${encodeURIComponent(notice)}` });
    // A switch or a cancellation first shows what it will do; only the confirming post (confirm=1) acts.
    const confirmed = str(params, "confirm") === "1";
    try {
      switch (action) {
        case "switch": {
          if (!sub || !config.features.subscription_update.enabled) throw invalidRequest("Plan changes are not enabled.");
          const priceId = str(params, "price") ?? "";
          const allowed = (config.features.subscription_update.products ?? []).some((p) => p.prices.includes(priceId));
          if (!allowed) throw invalidRequest("That plan is not available here.");
          const price = engine.requirePrice(priceId);
          if (!confirmed) return { html: confirmSwitchPage(session, config, customer, sub, price) };
          const { scheduledFor } = engine.portalSwitch(sub, price, config, ctx);
          return back(scheduledFor === null ? `You switched to ${engine.productName(price)}.` : `You will switch to ${engine.productName(price)} on ${formatDate(scheduledFor)}.`);
        }
        case "keep": {
          // Drops a switch scheduled for the period end: the subscription renews on its current plan.
          const schedule = sub ? engine.activeSchedule(sub) : null;
          if (!sub || !schedule) throw invalidRequest("No plan change is scheduled.");
          engine.releaseSchedule(schedule, ctx);
          const current = sub.items.data[0];
          return back(current ? `You stay on ${engine.productName(current.price)}.` : "The scheduled change was dropped.");
        }
        case "cancel": {
          if (!sub || !config.features.subscription_cancel.enabled) throw invalidRequest("Cancellation is not enabled.");
          if (!confirmed) return { html: confirmCancelPage(session, config, customer, sub) };
          if (config.features.subscription_cancel.mode === "immediately") {
            engine.endSubscription(sub, engine.nowForCustomer(customer.id), ctx, "cancellation_requested");
            return back("Your subscription has been canceled.");
          }
          // Flexible billing mode: the portal schedules the end with `cancel_at`, leaving `cancel_at_period_end` false.
          engine.scheduleCancel(sub, { at: sub.items.data[0]?.current_period_end ?? null }, ctx);
          return back("Your subscription will be canceled at the end of the period.");
        }
        case "undo": {
          if (!sub) throw invalidRequest("There is no subscription to renew.");
          engine.scheduleCancel(sub, { at: null }, ctx);
          return back("Your subscription will renew.");
        }
        case "card": {
          if (!config.features.payment_method_update.enabled) throw invalidRequest("Card updates are not enabled.");
          const expiry = str(params, "exp");
          const parsedExpiry = expiry ? readExpiry(expiry) : null;
          if (expiry && !parsedExpiry) throw invalidRequest("Your card's expiration date is invalid or in the past.");
          const card = readCard(str(params, "card") ?? "", parsedExpiry ?? undefined);
          engine.saveCustomerCard(card, customer, ctx);
          const saved = `Your card ending in ${card.last4} was saved.`;
          const after = session.flow?.type === "payment_method_update" ? session.flow.after_completion : null;
          if (after?.type === "redirect" && after.redirect) return { redirect: after.redirect.return_url };
          if (after?.type === "hosted_confirmation") return back(after.hosted_confirmation?.custom_message ?? saved);
          return back(saved);
        }
        default:
          return { status: 404, html: layout("Not found", "<h1>Not found</h1>") };
      }
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      return { status: error.status, html: portalPage(session, null, error.message) };
    }
  };

  // ---- Hosted invoice ---------------------------------------------------------------------------------------

  const invoicePage = (invoice: Stripe.Invoice, notice: string | null = null, error: string | null = null): string => {
    const lines = invoice.lines.data
      .map(
        (line) => `<tr><td>${esc(line.description)}<br><span class="muted small">${esc(formatDate(line.period.start))} – ${esc(formatDate(line.period.end))}</span></td>
        <td style="text-align:right">${esc(formatAmount(line.amount, line.currency))}</td></tr>`,
      )
      .join("");
    const paid = invoice.status === "paid";
    return layout(
      `Invoice ${invoice.number ?? invoice.id}`,
      `<section class="summary" aria-label="Invoice summary">
        ${merchant(MERCHANT)}
        <h1 class="lead">Invoice ${esc(invoice.number ?? invoice.id)} ${statusBadge(invoice.status)}</h1>
        <p class="price">${esc(formatAmount(paid ? invoice.amount_paid : invoice.amount_due, invoice.currency))}</p>
        <p class="muted">${paid ? "Paid" : "Due"} · ${esc(formatDate(invoice.created))}</p>
        <dl class="sum">
          <dt>Invoice number</dt><dd>${esc(invoice.number ?? invoice.id)}</dd>
          <dt>Billed to</dt><dd>${esc(invoice.customer_email ?? "")}</dd>
          <dt>Reason</dt><dd>${esc((invoice.billing_reason ?? "").replace(/_/g, " "))}</dd>
        </dl>
      </section>
      <section aria-label="Invoice lines">
        <h2>Items</h2>
        <div class="scroll"><table><thead><tr><th>Description</th><th style="text-align:right">Amount</th></tr></thead><tbody>${lines}</tbody></table></div>
        <dl class="sum">
          ${invoice.total !== invoice.subtotal || (invoice.total_taxes ?? []).length > 0 ? `<dt>Subtotal</dt><dd>${esc(formatAmount(invoice.subtotal, invoice.currency))}</dd>` : ""}
          ${(invoice.total_discount_amounts ?? [])
            .map((d) => `<dt>${esc(discountLabel(s(), typeof d.discount === "string" ? d.discount : d.discount.id))}</dt><dd data-testid="invoice-discount">${esc(formatSigned(-d.amount, invoice.currency))}</dd>`)
            .join("")}
          ${(invoice.total_taxes ?? [])
            .map((t) => `<dt>Sales tax (${SANDBOX_TAX_PERCENT}%${t.tax_behavior === "inclusive" ? ", included" : ""})</dt><dd data-testid="invoice-tax">${esc(formatAmount(t.amount, invoice.currency))}</dd>`)
            .join("")}
          <dt>Total</dt><dd>${esc(formatAmount(invoice.total, invoice.currency))}</dd>
          <dt>Amount paid</dt><dd>${esc(formatAmount(invoice.amount_paid, invoice.currency))}</dd>
          <dt class="total">Amount due</dt><dd class="total">${esc(formatAmount(invoice.amount_due, invoice.currency))}</dd>
        </dl>
        ${error ? `<div role="alert">${esc(error)}</div>` : ""}
        ${
          invoice.status === "open"
            ? `<h2>Pay this invoice</h2>
        <form method="post" action="/invoice/${esc(invoice.id)}/pay">${cardFields()}<button type="submit">Pay ${esc(formatAmount(invoice.amount_due, invoice.currency))}</button></form>`
            : ""
        }
        ${notice ? `<p role="status">${esc(notice)}</p>` : ""}
        ${footer}
      </section>`,
      "split",
    );
  };

  /**
   * Paying an open invoice on its hosted page: the card becomes the customer's default (as Stripe saves it for the
   * subscription the invoice bills), which settles a past-due subscription's open invoice; any other open invoice
   * is paid with it directly. A declined card leaves the invoice open and says why.
   */
  const payInvoicePage = (invoice: Stripe.Invoice, params: Params, ctx: RequestContext): PageResult => {
    try {
      if (invoice.status !== "open") throw invalidRequest(`This invoice is ${invoice.status ?? "not open"}; there is nothing to pay.`);
      const customer = engine.requireCustomer(String(invoice.customer), "customer");
      const expiry = str(params, "exp");
      const parsedExpiry = expiry ? readExpiry(expiry) : null;
      if (expiry && !parsedExpiry) throw invalidRequest("Your card's expiration date is invalid or in the past.");
      const card = readCard(str(params, "card") ?? "", parsedExpiry ?? undefined);
      const attempts = invoice.attempt_count;
      engine.saveCustomerCard(card, customer, ctx);
      // Saving the card already tried a past-due subscription's invoice; one attempt per press.
      if (invoice.status === "open" && invoice.attempt_count === attempts) engine.payInvoice(invoice, ctx);
      if (invoice.status !== "paid") throw invalidRequest("Your card was declined.");
      return { redirect: `/invoice/${invoice.id}?notice=${encodeURIComponent("Thank you: this invoice is paid.")}` };
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      return { status: error.status, html: invoicePage(invoice, null, error.message) };
    }
  };

  // ---- Admin overview ---------------------------------------------------------------------------------------

  const adminPage = (): string => {
    const st = s();
    const rows = <T,>(items: T[], render: (item: T) => string) => items.map(render).join("") || `<tr><td colspan="9" class="muted">None</td></tr>`;
    const customers = Object.values(st.customers).reverse();
    const clocks = Object.values(st.testClocks).reverse();
    const subs = Object.values(st.subscriptions).reverse();
    const trialing = new Set(subs.filter((sub) => sub.status === "trialing" && typeof sub.test_clock === "string").map((sub) => String(sub.test_clock)));
    const invoices = Object.values(st.invoices).reverse().slice(0, 100);
    const events = Object.values(st.events).reverse().slice(0, 100);
    return layout(
      "Stripe sandbox",
      `${merchant(MERCHANT)}<h1>Stripe sandbox</h1>
      <p class="muted">What "Stripe" thinks. Deliveries pending: ${deps.deliveries.pendingCount()}. Faults: <code>${esc(JSON.stringify(deps.deliveries.faults))}</code></p>
      <p>Emails the app sent (receipts, failed payments, cancellations): <a href="http://127.0.0.1:${esc(process.env.MAIL_SANDBOX_PORT || "8025")}/">local inbox</a> (sandbox/mail).</p>
      <h2>Test clocks</h2>
      <div class="scroll"><table><thead><tr><th>Clock</th><th>Name</th><th>Frozen time</th><th>Status</th><th></th></tr></thead><tbody>${rows(
        clocks,
        (c) => `<tr><td><code>${esc(c.id)}</code></td><td>${esc(c.name)}</td><td>${esc(new Date(c.frozen_time * 1000).toISOString())}</td><td>${esc(c.status)}</td>
        <td><form method="post" action="/_sandbox/test_clocks/${esc(c.id)}/advance-month" class="inline"><button type="submit" class="secondary">Advance one month</button></form>${
          trialing.has(c.id)
            ? ` <form method="post" action="/_sandbox/test_clocks/${esc(c.id)}/end-trial" class="inline"><input type="hidden" name="from" value="admin"><button type="submit" class="secondary">End trial</button></form>`
            : ""
        }</td></tr>`,
      )}</tbody></table></div>
      <h2>Customers</h2>
      <div class="scroll"><table><thead><tr><th>Customer</th><th>Email</th><th>Name</th><th>Test clock</th></tr></thead><tbody>${rows(
        customers,
        (c) => `<tr><td><code>${esc(c.id)}</code></td><td>${esc(c.email)}</td><td>${esc(c.name)}</td><td><code>${esc(idOf(c.test_clock ?? null))}</code></td></tr>`,
      )}</tbody></table></div>
      <h2>Subscriptions</h2>
      <div class="scroll"><table><thead><tr><th>Subscription</th><th>Customer</th><th>Status</th><th>Plan</th><th>Period end</th><th>Cancel at</th></tr></thead><tbody>${rows(
        subs,
        (sub) => {
          const item = sub.items.data[0];
          return `<tr><td><code>${esc(sub.id)}</code></td><td><code>${esc(sub.customer)}</code></td><td>${esc(sub.status)}</td>
          <td>${item ? esc(`${engine.productName(item.price)} · ${perInterval(item.price)}`) : ""}</td>
          <td>${item ? esc(formatDate(item.current_period_end)) : ""}</td><td>${sub.cancel_at ? esc(formatDate(sub.cancel_at)) : ""}</td></tr>`;
        },
      )}</tbody></table></div>
      <h2>Invoices</h2>
      <div class="scroll"><table><thead><tr><th>Invoice</th><th>Customer</th><th>Reason</th><th>Status</th><th>Total</th></tr></thead><tbody>${rows(
        invoices,
        (inv) => `<tr><td><a href="/invoice/${esc(inv.id)}"><code>${esc(inv.id)}</code></a></td><td><code>${esc(inv.customer)}</code></td>
        <td>${esc(inv.billing_reason)}</td><td>${esc(inv.status)}</td><td>${esc(formatAmount(inv.total, inv.currency))}</td></tr>`,
      )}</tbody></table></div>
      <h2>Events (latest 100)</h2>
      <div class="scroll"><table><thead><tr><th>Event</th><th>Type</th><th>Created</th><th>Pending</th><th>Deliveries</th></tr></thead><tbody>${rows(
        events,
        (e) => `<tr><td><code>${esc(e.id)}</code></td><td>${esc(e.type)}</td><td>${esc(new Date(e.created * 1000).toISOString())}</td><td>${e.pending_webhooks}</td>
        <td>${(st.deliveries[e.id] ?? [])
          .map((d) => `${esc(d.url)}: ${esc(d.state)} after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}${d.lastStatus ? ` (HTTP ${d.lastStatus})` : ""}${d.lastError ? ` – ${esc(d.lastError)}` : ""}`)
          .join("<br>")}</td></tr>`,
      )}</tbody></table></div>`,
      "wide",
    );
  };

  const notFound = (): PageResult => ({ status: 404, html: layout("Not found", `${merchant(MERCHANT)}<h1>Not found</h1><p><a href="/">Sandbox overview</a></p>`) });

  return function handlePage(method: string, url: URL, params: Params, ctx: RequestContext): PageResult {
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [section, id, action] = parts;
    if (parts.length === 0 && method === "GET") return { html: adminPage() };
    if (section === "checkout" && id) {
      const session = s().checkoutSessions[id];
      if (!session) return notFound();
      engine.expireIfDue(session);
      if (method === "GET" && !action) return { html: checkoutPage(session, null, {}) };
      if (method === "POST" && !action) return submitCheckout(session, params, ctx);
      if (method === "POST" && action === "promotion") return applyPromotion(session, params);
    }
    if (section === "portal" && id) {
      const session = s().portalSessions[id];
      if (!session) return notFound();
      if (method === "GET" && !action) return { html: portalPage(session, url.searchParams.get("notice"), null) };
      if (method === "POST" && action) return portalAction(session, action, params, ctx);
    }
    if (section === "invoice" && id) {
      const invoice = s().invoices[id];
      if (!invoice) return notFound();
      if (method === "GET" && !action) return { html: invoicePage(invoice, url.searchParams.get("notice"), null) };
      if (method === "POST" && action === "pay") return payInvoicePage(invoice, params, ctx);
    }
    return notFound();
  };
}

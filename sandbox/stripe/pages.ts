// Server-rendered hosted pages: Checkout, the customer portal, hosted invoices and the admin overview. Plain forms and
// 303 redirects, no JavaScript, so a person, a browser test or `fetch` can drive them the same way.
import type Stripe from "stripe";
import { readCard, readExpiry } from "./cards";
import type { Deliveries } from "./delivery";
import { type CheckoutCompletion, type Engine, type RequestContext, formatAmount, formatDate, idOf } from "./engine";
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
  };
}

const esc = (value: unknown): string =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const CSS = `
:root { color-scheme: light; --ink: #1a1f36; --muted: #5c6370; --line: #dfe3ea; --accent: #4f46e5; --bad: #b42318; --ok: #067647; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f8fb; }
main { max-width: 40rem; margin: 2rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 12px; }
main.wide { max-width: 72rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; }
.muted { color: var(--muted); } .price { font-size: 1.25rem; font-weight: 600; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; background: #eef2ff; font-size: .85rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input, select { width: 100%; padding: .6rem .7rem; font: inherit; border: 1px solid #b8c0cc; border-radius: 8px; }
input:focus-visible, select:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #a5b4fc; outline-offset: 2px; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1rem; }
button { margin-top: 1.25rem; padding: .65rem 1.2rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 8px; cursor: pointer; }
button.secondary { color: var(--ink); background: #eef0f4; }
form.inline { display: inline; }
[role=alert] { margin: 1rem 0; padding: .75rem 1rem; color: var(--bad); background: #fef3f2; border: 1px solid #fecdca; border-radius: 8px; }
[role=status] { margin: 1rem 0; padding: .75rem 1rem; color: var(--ok); background: #ecfdf3; border: 1px solid #abefc6; border-radius: 8px; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; } th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
code { font-size: .85em; } a { color: var(--accent); }
`;

function layout(title: string, body: string, wide = false): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><main${wide ? ' class="wide"' : ""}>${body}</main></body>
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
    if (session.status !== "open") {
      return layout("Checkout", `<h1>This checkout has ${session.status === "complete" ? "been completed" : "expired"}</h1>
        ${session.cancel_url ? `<p><a href="${esc(session.cancel_url)}">Back</a></p>` : ""}`);
    }
    const productName = price ? engine.productName(price) : "Subscription";
    return layout(
      `Subscribe to ${productName}`,
      `<p class="muted">Stripe sandbox · test mode</p>
      <h1>Subscribe to ${esc(productName)}</h1>
      <p class="price">${price ? esc(perInterval(price)) : ""}</p>
      ${customer?.email || session.customer_email ? `<p class="muted">Paying as <strong>${esc(customer?.email ?? session.customer_email)}</strong></p>` : ""}
      ${error ? `<div role="alert">${esc(error)}</div>` : ""}
      <form method="post" action="/checkout/${esc(session.id)}">
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="email" value="${esc(email)}" required>
        <label for="name">Name on card</label>
        <input id="name" name="name" autocomplete="cc-name" value="${esc(str(values, "name") ?? customer?.name ?? "")}" required>
        <label for="line1">Address line 1</label>
        <input id="line1" name="address[line1]" autocomplete="address-line1" value="${esc(str(address, "line1") ?? "")}"${req}>
        <div class="row">
          <div><label for="city">City</label><input id="city" name="address[city]" autocomplete="address-level2" value="${esc(str(address, "city") ?? "")}"${req}></div>
          <div><label for="postal_code">Postal code</label><input id="postal_code" name="address[postal_code]" autocomplete="postal-code" value="${esc(str(address, "postal_code") ?? "")}"${req}></div>
        </div>
        <label for="country">Country</label>
        <select id="country" name="address[country]" autocomplete="country">
          ${COUNTRIES.map(([code, label]) => `<option value="${code}"${code === country ? " selected" : ""}>${esc(label)}</option>`).join("")}
        </select>
        ${cardFields()}
        <p class="muted">Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined.</p>
        <button type="submit">Subscribe</button>
      </form>
      ${session.cancel_url ? `<p><a href="${esc(session.cancel_url)}">Back</a></p>` : ""}`,
    );
  };

  const submitCheckout = (session: Stripe.Checkout.Session, params: Params, ctx: RequestContext): PageResult => {
    try {
      const completion = completionFromParams(params, { address: false, card: false });
      if (!completion.email) throw invalidRequest("Enter your email address.", "email");
      const completed = engine.completeCheckout(engine.requireOpenSession(session.id), completion, ctx);
      if (!completed.success_url) {
        return { html: layout("Thank you", `<h1>Thank you</h1><p role="status">Your subscription is active.</p>`) };
      }
      return { redirect: completed.success_url.replaceAll("{CHECKOUT_SESSION_ID}", completed.id) };
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      const message = error.param === "address" ? "Enter your full billing address." : error.message;
      return { status: error.status, html: checkoutPage(session, message, params) };
    }
  };

  // ---- Portal ------------------------------------------------------------------------------------------------

  const portalSubscription = (customerId: string): Stripe.Subscription | undefined => {
    const subs = Object.values(s().subscriptions).filter((sub) => sub.customer === customerId);
    return [...subs].reverse().find((sub) => sub.status !== "canceled" && sub.status !== "incomplete_expired") ?? subs.at(-1);
  };

  const portalPage = (session: Stripe.BillingPortal.Session, notice: string | null, error: string | null): string => {
    const config = s().portalConfigurations[idOf(session.configuration) ?? ""];
    const customer = s().customers[idOf(session.customer) ?? ""];
    if (!config || !customer) return layout("Billing", "<h1>This portal session is no longer valid</h1>");
    const f = config.features;
    const sub = portalSubscription(customer.id);
    const item = sub?.items.data[0];
    const live = sub && sub.status !== "canceled" && sub.status !== "incomplete_expired";
    const parts: string[] = [];
    parts.push(`<p class="muted">Stripe sandbox · test mode</p><h1>${esc(config.business_profile.headline ?? "Manage your subscription")}</h1>`);
    parts.push(`<p class="muted">${esc(customer.email ?? customer.id)}</p>`);
    if (notice) parts.push(`<p role="status">${esc(notice)}</p>`);
    if (error) parts.push(`<div role="alert">${esc(error)}</div>`);
    parts.push(`<h2>Current plan</h2>`);
    if (sub && item) {
      const ends = sub.cancel_at ?? (sub.cancel_at_period_end ? item.current_period_end : null);
      parts.push(`<p><strong>${esc(engine.productName(item.price))}</strong> <span class="badge">${esc(sub.status)}</span></p>
        <p class="price">${esc(perInterval(item.price))}</p>`);
      if (!live) parts.push(`<p>Ended on ${esc(formatDate(sub.ended_at ?? item.current_period_end))}</p>`);
      else if (ends !== null) parts.push(`<p>Cancels on ${esc(formatDate(ends))}</p>`);
      else parts.push(`<p>Renews on ${esc(formatDate(item.current_period_end))}</p>`);
      if (sub.status === "past_due") parts.push(`<div role="alert">Your last payment failed. Update your card to keep your subscription.</div>`);
    } else {
      parts.push(`<p>No subscription.</p>`);
    }
    if (live && item && f.subscription_update.enabled) {
      const options = (f.subscription_update.products ?? []).flatMap((p) => p.prices).filter((priceId) => priceId !== item.price.id);
      if (options.length > 0) {
        parts.push(`<h2>Change plan</h2>`);
        for (const priceId of options) {
          const price = s().prices[priceId];
          if (!price || !price.active) continue;
          parts.push(`<form method="post" action="/portal/${esc(session.id)}/switch" class="inline">
            <input type="hidden" name="price" value="${esc(price.id)}">
            <button type="submit" class="secondary">Switch to ${esc(engine.productName(price))}</button>
            <span class="muted">${esc(perInterval(price))}</span></form>`);
        }
      }
    }
    if (live && f.subscription_cancel.enabled) {
      const scheduled = sub.cancel_at !== null || sub.cancel_at_period_end;
      parts.push(
        scheduled
          ? `<form method="post" action="/portal/${esc(session.id)}/undo"><button type="submit">Don't cancel</button></form>`
          : `<form method="post" action="/portal/${esc(session.id)}/cancel"><button type="submit" class="secondary">Cancel subscription</button></form>`,
      );
    }
    if (f.payment_method_update.enabled) {
      const pmId = (sub && idOf(sub.default_payment_method)) ?? idOf(customer.invoice_settings.default_payment_method);
      const pm = pmId ? s().paymentMethods[pmId] : undefined;
      parts.push(`<h2>Payment method</h2>
        <p>${pm?.card ? `${esc(pm.card.brand)} ending in ${esc(pm.card.last4)}` : "No card on file."}</p>
        <form method="post" action="/portal/${esc(session.id)}/card">${cardFields()}<button type="submit">Update card</button></form>`);
    }
    if (f.invoice_history.enabled) {
      const invoices = Object.values(s().invoices).filter((inv) => inv.customer === customer.id && inv.status !== "draft").reverse();
      parts.push(`<h2>Invoice history</h2>`);
      parts.push(
        invoices.length === 0
          ? `<p>No invoices yet.</p>`
          : `<table><thead><tr><th>Date</th><th>Amount</th><th>Status</th><th>Invoice</th></tr></thead><tbody>${invoices
              .map(
                (inv) => `<tr><td>${esc(formatDate(inv.created))}</td><td>${esc(formatAmount(inv.total, inv.currency))}</td>
                <td>${esc(inv.status)}</td><td><a href="${esc(inv.hosted_invoice_url ?? `/invoice/${inv.id}`)}">${esc(inv.number ?? inv.id)}</a></td></tr>`,
              )
              .join("")}</tbody></table>`,
      );
    }
    if (session.return_url) parts.push(`<p><a href="${esc(session.return_url)}">Return to ${esc(config.name ?? "the app")}</a></p>`);
    return layout("Billing", parts.join("\n"));
  };

  const portalAction = (session: Stripe.BillingPortal.Session, action: string, params: Params, ctx: RequestContext): PageResult => {
    const config = s().portalConfigurations[idOf(session.configuration) ?? ""];
    const customer = s().customers[idOf(session.customer) ?? ""];
    if (!config || !customer) return { status: 404, html: layout("Billing", "<h1>This portal session is no longer valid</h1>") };
    const sub = portalSubscription(customer.id);
    const back = (notice: string) => ({ redirect: `/portal/${session.id}?notice=${encodeURIComponent(notice)}` });
    try {
      switch (action) {
        case "switch": {
          if (!sub || !config.features.subscription_update.enabled) throw invalidRequest("Plan changes are not enabled.");
          const priceId = str(params, "price") ?? "";
          const allowed = (config.features.subscription_update.products ?? []).some((p) => p.prices.includes(priceId));
          if (!allowed) throw invalidRequest("That plan is not available here.");
          const price = engine.requirePrice(priceId);
          engine.changePrice(sub, price, null, config.features.subscription_update.proration_behavior, ctx);
          return back(`You switched to ${engine.productName(price)}.`);
        }
        case "cancel": {
          if (!sub || !config.features.subscription_cancel.enabled) throw invalidRequest("Cancellation is not enabled.");
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
          return back(`Your card ending in ${card.last4} was saved.`);
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

  const invoicePage = (invoice: Stripe.Invoice): string => {
    const lines = invoice.lines.data
      .map(
        (line) => `<tr><td>${esc(line.description)}</td><td>${esc(formatDate(line.period.start))} – ${esc(formatDate(line.period.end))}</td>
        <td>${esc(formatAmount(line.amount, line.currency))}</td></tr>`,
      )
      .join("");
    return layout(
      `Invoice ${invoice.number ?? invoice.id}`,
      `<p class="muted">Stripe sandbox · test mode</p>
      <h1>Invoice ${esc(invoice.number ?? invoice.id)} <span class="badge">${esc(invoice.status)}</span></h1>
      <p class="muted">${esc(invoice.customer_email ?? "")} · ${esc(formatDate(invoice.created))} · ${esc(invoice.billing_reason)}</p>
      <table><thead><tr><th>Description</th><th>Period</th><th>Amount</th></tr></thead><tbody>${lines}</tbody></table>
      <p>Total: <strong>${esc(formatAmount(invoice.total, invoice.currency))}</strong> · Amount due: ${esc(formatAmount(invoice.amount_due, invoice.currency))}
      · Amount paid: ${esc(formatAmount(invoice.amount_paid, invoice.currency))}</p>`,
    );
  };

  // ---- Admin overview ---------------------------------------------------------------------------------------

  const adminPage = (): string => {
    const st = s();
    const rows = <T,>(items: T[], render: (item: T) => string) => items.map(render).join("") || `<tr><td colspan="9" class="muted">None</td></tr>`;
    const customers = Object.values(st.customers).reverse();
    const clocks = Object.values(st.testClocks).reverse();
    const subs = Object.values(st.subscriptions).reverse();
    const invoices = Object.values(st.invoices).reverse().slice(0, 100);
    const events = Object.values(st.events).reverse().slice(0, 100);
    return layout(
      "Stripe sandbox",
      `<h1>Stripe sandbox</h1>
      <p class="muted">What "Stripe" thinks. Deliveries pending: ${deps.deliveries.pendingCount()}. Faults: <code>${esc(JSON.stringify(deps.deliveries.faults))}</code></p>
      <p>Emails the app sent (receipts, failed payments, cancellations): <a href="http://127.0.0.1:${esc(process.env.MAIL_SANDBOX_PORT || "8025")}/">local inbox</a> (sandbox/mail).</p>
      <h2>Test clocks</h2>
      <table><thead><tr><th>Clock</th><th>Name</th><th>Frozen time</th><th>Status</th><th></th></tr></thead><tbody>${rows(
        clocks,
        (c) => `<tr><td><code>${esc(c.id)}</code></td><td>${esc(c.name)}</td><td>${esc(new Date(c.frozen_time * 1000).toISOString())}</td><td>${esc(c.status)}</td>
        <td><form method="post" action="/_sandbox/test_clocks/${esc(c.id)}/advance-month" class="inline"><button type="submit" class="secondary">Advance one month</button></form></td></tr>`,
      )}</tbody></table>
      <h2>Customers</h2>
      <table><thead><tr><th>Customer</th><th>Email</th><th>Name</th><th>Test clock</th></tr></thead><tbody>${rows(
        customers,
        (c) => `<tr><td><code>${esc(c.id)}</code></td><td>${esc(c.email)}</td><td>${esc(c.name)}</td><td><code>${esc(idOf(c.test_clock ?? null))}</code></td></tr>`,
      )}</tbody></table>
      <h2>Subscriptions</h2>
      <table><thead><tr><th>Subscription</th><th>Customer</th><th>Status</th><th>Plan</th><th>Period end</th><th>Cancel at</th></tr></thead><tbody>${rows(
        subs,
        (sub) => {
          const item = sub.items.data[0];
          return `<tr><td><code>${esc(sub.id)}</code></td><td><code>${esc(sub.customer)}</code></td><td>${esc(sub.status)}</td>
          <td>${item ? esc(`${engine.productName(item.price)} · ${perInterval(item.price)}`) : ""}</td>
          <td>${item ? esc(formatDate(item.current_period_end)) : ""}</td><td>${sub.cancel_at ? esc(formatDate(sub.cancel_at)) : ""}</td></tr>`;
        },
      )}</tbody></table>
      <h2>Invoices</h2>
      <table><thead><tr><th>Invoice</th><th>Customer</th><th>Reason</th><th>Status</th><th>Total</th></tr></thead><tbody>${rows(
        invoices,
        (inv) => `<tr><td><a href="/invoice/${esc(inv.id)}"><code>${esc(inv.id)}</code></a></td><td><code>${esc(inv.customer)}</code></td>
        <td>${esc(inv.billing_reason)}</td><td>${esc(inv.status)}</td><td>${esc(formatAmount(inv.total, inv.currency))}</td></tr>`,
      )}</tbody></table>
      <h2>Events (latest 100)</h2>
      <table><thead><tr><th>Event</th><th>Type</th><th>Created</th><th>Pending</th><th>Deliveries</th></tr></thead><tbody>${rows(
        events,
        (e) => `<tr><td><code>${esc(e.id)}</code></td><td>${esc(e.type)}</td><td>${esc(new Date(e.created * 1000).toISOString())}</td><td>${e.pending_webhooks}</td>
        <td>${(st.deliveries[e.id] ?? [])
          .map((d) => `${esc(d.url)}: ${esc(d.state)} after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}${d.lastStatus ? ` (HTTP ${d.lastStatus})` : ""}${d.lastError ? ` – ${esc(d.lastError)}` : ""}`)
          .join("<br>")}</td></tr>`,
      )}</tbody></table>`,
      true,
    );
  };

  const notFound = (): PageResult => ({ status: 404, html: layout("Not found", "<h1>Not found</h1><p><a href=\"/\">Sandbox overview</a></p>") });

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
    }
    if (section === "portal" && id) {
      const session = s().portalSessions[id];
      if (!session) return notFound();
      if (method === "GET" && !action) return { html: portalPage(session, url.searchParams.get("notice"), null) };
      if (method === "POST" && action) return portalAction(session, action, params, ctx);
    }
    if (section === "invoice" && id && method === "GET") {
      const invoice = s().invoices[id];
      if (!invoice) return notFound();
      return { html: invoicePage(invoice) };
    }
    return notFound();
  };
}

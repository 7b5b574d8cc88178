// Coupons, promotion codes, the discounts redeemed from them, and the sandbox's automatic tax: how they change an
// invoice (discount amounts per line, total_discount_amounts, a tax line per line and total_taxes) in the pinned API's
// shape, and for how many periods a discount lasts (once: the first invoice; repeating: the invoices that start
// before `end`; forever). Prorations are not discountable, as the sandbox bills them.
import type Stripe from "stripe";
import { StripeApiError, invalidRequest, resourceMissing } from "./errors";
import { invoiceObject } from "./objects";
import { type CheckoutSetup, type Redemption, type SandboxState, clone, newId, randomToken } from "./state";

/** The one rate the sandbox's automatic tax applies, whatever the address: enough for invoices to show a tax line. */
export const SANDBOX_TAX_PERCENT = 10;
export const SANDBOX_TAX_RATE_ID = "txr_sandboxAutomaticTax";

export function sandboxTaxRate(): Stripe.TaxRate {
  return {
    id: SANDBOX_TAX_RATE_ID,
    object: "tax_rate",
    active: true,
    country: null,
    created: 1_767_225_600,
    description: "The Stripe sandbox's fixed automatic tax rate",
    display_name: "Sales tax",
    effective_percentage: SANDBOX_TAX_PERCENT,
    flat_amount: null,
    inclusive: false,
    jurisdiction: "Sandbox",
    jurisdiction_level: null,
    livemode: false,
    metadata: {},
    percentage: SANDBOX_TAX_PERCENT,
    rate_type: "percentage",
    state: null,
    tax_type: "sales_tax",
  } satisfies Stripe.TaxRate;
}

const MONTH_SECONDS = (anchor: number, months: number): number => {
  const d = new Date(anchor * 1000);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const days = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  return Date.UTC(target.getUTCFullYear(), target.getUTCMonth(), Math.min(d.getUTCDate(), days), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
};

export function couponObject(input: {
  id: string | undefined;
  percentOff: number | null;
  amountOff: number | null;
  currency: string | null;
  duration: Stripe.Coupon.Duration;
  durationInMonths: number | null;
  maxRedemptions: number | null;
  redeemBy: number | null;
  name: string | null;
  metadata: Record<string, string>;
  now: number;
}): Stripe.Coupon {
  return {
    id: input.id ?? randomToken(8),
    object: "coupon",
    amount_off: input.amountOff,
    created: input.now,
    currency: input.currency,
    duration: input.duration,
    duration_in_months: input.durationInMonths,
    livemode: false,
    max_redemptions: input.maxRedemptions,
    metadata: input.metadata,
    name: input.name,
    percent_off: input.percentOff,
    redeem_by: input.redeemBy,
    times_redeemed: 0,
    valid: true,
  } satisfies Stripe.Coupon;
}

export function promotionCodeObject(input: {
  code: string;
  coupon: string;
  active: boolean;
  customer: string | null;
  expiresAt: number | null;
  maxRedemptions: number | null;
  firstTimeTransaction: boolean;
  minimumAmount: number | null;
  minimumAmountCurrency: string | null;
  metadata: Record<string, string>;
  now: number;
}): Stripe.PromotionCode {
  return {
    id: newId("promo", 24),
    object: "promotion_code",
    active: input.active,
    code: input.code,
    created: input.now,
    customer: input.customer,
    customer_account: null,
    expires_at: input.expiresAt,
    livemode: false,
    max_redemptions: input.maxRedemptions,
    metadata: input.metadata,
    promotion: { coupon: input.coupon, type: "coupon" },
    restrictions: {
      first_time_transaction: input.firstTimeTransaction,
      minimum_amount: input.minimumAmount,
      minimum_amount_currency: input.minimumAmountCurrency,
    },
    times_redeemed: 0,
  } satisfies Stripe.PromotionCode;
}

/** Whether a coupon can still be redeemed at `now` (redeem_by, max_redemptions); keeps `valid` current. */
export function refreshCoupon(coupon: Stripe.Coupon, now: number): Stripe.Coupon {
  const expired = coupon.redeem_by !== null && now > coupon.redeem_by;
  const exhausted = coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions;
  coupon.valid = !expired && !exhausted;
  return coupon;
}

/** "20% off", "$5.00 off"; then "once", "for 3 months", "forever". */
export function describeCoupon(coupon: Stripe.Coupon): string {
  const off =
    coupon.percent_off !== null
      ? `${coupon.percent_off}% off`
      : `${new Intl.NumberFormat("en-US", { style: "currency", currency: (coupon.currency ?? "usd").toUpperCase() }).format((coupon.amount_off ?? 0) / 100)} off`;
  switch (coupon.duration) {
    case "once":
      return `${off} once`;
    case "repeating":
      return `${off} for ${coupon.duration_in_months} month${coupon.duration_in_months === 1 ? "" : "s"}`;
    case "forever":
      return `${off} forever`;
    default:
      return off;
  }
}

/** The label Stripe prints for a discount: the promotion code a customer typed, else the coupon's name or id. */
export function discountLabel(state: SandboxState, discountId: string): string {
  const discount = state.discounts[discountId];
  if (!discount) return discountId;
  const promo = typeof discount.promotion_code === "string" ? state.promotionCodes[discount.promotion_code] : discount.promotion_code;
  const couponId = typeof discount.source.coupon === "string" ? discount.source.coupon : discount.source.coupon?.id;
  const coupon = couponId ? state.coupons[couponId] : undefined;
  const name = promo?.code ?? coupon?.name ?? couponId ?? discountId;
  return coupon ? `${name} (${describeCoupon(coupon)})` : name;
}

/** Stripe Checkout's answer to a code it will not apply. */
const codeRefused = (message: string) => new StripeApiError(400, "invalid_request_error", "promotion_code_invalid", message, "promotion_code");

/**
 * Finds an active promotion code by what a customer typed (case-insensitive) and checks it can be redeemed now by this
 * customer on this amount: active, not expired, not used up, its coupon valid and in the right currency, its
 * restrictions met.
 */
export function redeemableCode(
  state: SandboxState,
  typed: string,
  context: { now: number; customer: string | null; amount: number; currency: string },
): Redemption {
  const wanted = typed.trim().toLowerCase();
  if (!wanted) throw codeRefused("Enter a promotion code.");
  const promo = Object.values(state.promotionCodes).find((p) => p.active && p.code.toLowerCase() === wanted);
  if (!promo) throw codeRefused("This code is invalid.");
  return checkPromotionCode(state, promo, context);
}

export function checkPromotionCode(
  state: SandboxState,
  promo: Stripe.PromotionCode,
  context: { now: number; customer: string | null; amount: number; currency: string },
): Redemption {
  if (!promo.active) throw codeRefused("This code is invalid.");
  if (promo.expires_at !== null && context.now > promo.expires_at) throw codeRefused("This code has expired.");
  if (promo.max_redemptions !== null && promo.times_redeemed >= promo.max_redemptions) throw codeRefused("This code has been used up.");
  const customer = typeof promo.customer === "string" ? promo.customer : (promo.customer?.id ?? null);
  if (customer !== null && customer !== context.customer) throw codeRefused("This code is not valid for this customer.");
  const couponId = typeof promo.promotion.coupon === "string" ? promo.promotion.coupon : (promo.promotion.coupon?.id ?? "");
  checkCoupon(state, couponId, context, "promotion_code");
  const { minimum_amount: minimum, minimum_amount_currency: minimumCurrency, first_time_transaction: firstTime } = promo.restrictions;
  if (minimum !== null && (minimumCurrency ?? context.currency) === context.currency && context.amount < minimum) {
    throw codeRefused(`This code requires a minimum purchase of ${(minimum / 100).toFixed(2)} ${context.currency.toUpperCase()}.`);
  }
  if (firstTime && context.customer !== null) {
    const paidBefore = Object.values(state.invoices).some((inv) => inv.customer === context.customer && inv.status === "paid" && inv.amount_paid > 0);
    if (paidBefore) throw codeRefused("This code is only valid for first-time customers.");
  }
  return { coupon: couponId, promotionCode: promo.id };
}

export function checkCoupon(state: SandboxState, couponId: string, context: { now: number; currency: string }, param: string): Stripe.Coupon {
  const coupon = state.coupons[couponId];
  if (!coupon) {
    if (param === "promotion_code") throw codeRefused("This code is invalid.");
    throw resourceMissing("coupon", couponId, param);
  }
  refreshCoupon(coupon, context.now);
  if (!coupon.valid) {
    if (param === "promotion_code") throw codeRefused("This code has expired.");
    throw invalidRequest(`Coupon expired: ${coupon.id}`, param);
  }
  if (coupon.amount_off !== null && coupon.currency !== context.currency) {
    const message = `This coupon's currency (${coupon.currency}) does not match the currency of the purchase (${context.currency}).`;
    if (param === "promotion_code") throw codeRefused(message);
    throw invalidRequest(message, param);
  }
  return coupon;
}

/** Redeems a coupon (or promotion code) into a discount on a subscription: counts the redemption once. */
export function redeemOnSubscription(
  state: SandboxState,
  redemption: Redemption,
  target: { subscription: string; customer: string; checkoutSession: string | null; now: number },
): Stripe.Discount {
  const coupon = state.coupons[redemption.coupon];
  if (!coupon) throw resourceMissing("coupon", redemption.coupon, "discounts[0][coupon]");
  const discount = {
    id: newId("di", 24),
    object: "discount",
    checkout_session: target.checkoutSession,
    customer: target.customer,
    customer_account: null,
    end: coupon.duration === "repeating" && coupon.duration_in_months ? MONTH_SECONDS(target.now, coupon.duration_in_months) : null,
    invoice: null,
    invoice_item: null,
    promotion_code: redemption.promotionCode,
    source: { coupon: coupon.id, type: "coupon" },
    start: target.now,
    subscription: target.subscription,
    subscription_item: null,
  } satisfies Stripe.Discount;
  state.discounts[discount.id] = discount;
  coupon.times_redeemed += 1;
  refreshCoupon(coupon, target.now);
  if (redemption.promotionCode) {
    const promo = state.promotionCodes[redemption.promotionCode];
    if (promo) promo.times_redeemed += 1;
  }
  return discount;
}

const couponOf = (state: SandboxState, discount: Stripe.Discount): Stripe.Coupon | undefined =>
  state.coupons[typeof discount.source.coupon === "string" ? discount.source.coupon : (discount.source.coupon?.id ?? "")];

/** Whether a subscription's discount still applies to an invoice for the period starting `at`. */
function discountApplies(state: SandboxState, discount: Stripe.Discount, at: number): boolean {
  const coupon = couponOf(state, discount);
  if (!coupon) return false;
  if (coupon.duration === "once") {
    return !Object.values(state.invoices).some((inv) => inv.discounts.includes(discount.id));
  }
  return discount.end === null || at < discount.end;
}

/**
 * Applies the subscription's discounts and, when automatic tax is on, the sandbox's tax to a freshly drafted invoice.
 * A discount that no longer applies (a `once` one already used, a `repeating` one past its end) is removed from the
 * subscription first, as Stripe removes it; their ids are returned (for `customer.discount.deleted`).
 */
export function adjustInvoice(state: SandboxState, invoice: Stripe.Invoice, sub: Stripe.Subscription, at: number): string[] {
  const subDiscounts = sub.discounts.map((d) => (typeof d === "string" ? d : d.id));
  const live = subDiscounts.filter((id) => {
    const discount = state.discounts[id];
    return discount !== undefined && discountApplies(state, discount, at);
  });
  if (live.length !== subDiscounts.length) sub.discounts = live;
  const ended = subDiscounts.filter((id) => !live.includes(id));

  const lines = invoice.lines.data;
  const lineDiscount = new Map<string, number>();
  const applied: Array<{ id: string; amount: number }> = [];
  for (const id of live) {
    const discount = state.discounts[id];
    const coupon = discount ? couponOf(state, discount) : undefined;
    if (!coupon) continue;
    const eligible = lines.filter((line) => line.discountable && line.amount > 0);
    const room = (line: Stripe.InvoiceLineItem) => line.amount - (lineDiscount.get(line.id) ?? 0);
    const base = eligible.reduce((sum, line) => sum + room(line), 0);
    if (eligible.length === 0 || base <= 0) continue;
    let total = 0;
    if (coupon.percent_off !== null) {
      for (const line of eligible) {
        const amount = Math.round((room(line) * coupon.percent_off) / 100);
        if (amount > 0) addLineDiscount(line, id, amount, lineDiscount);
        total += amount;
      }
    } else if (coupon.amount_off !== null && coupon.currency === invoice.currency) {
      // An amount off is spread over the discountable lines by their share; it never takes a line below zero.
      const off = Math.min(coupon.amount_off, base);
      let left = off;
      eligible.forEach((line, i) => {
        const amount = i === eligible.length - 1 ? left : Math.min(left, Math.round((off * room(line)) / base));
        if (amount > 0) addLineDiscount(line, id, amount, lineDiscount);
        left -= amount;
      });
      total = off;
    }
    if (total > 0) applied.push({ id, amount: total });
  }
  const discountTotal = applied.reduce((sum, d) => sum + d.amount, 0);
  invoice.discounts = applied.map((d) => d.id);
  invoice.total_discount_amounts = applied.map((d) => ({ amount: d.amount, discount: d.id }));
  invoice.total_pretax_credit_amounts = applied.map((d) => ({ amount: d.amount, discount: d.id, type: "discount" }));

  let exclusiveTax = 0;
  let inclusiveTax = 0;
  const totalTaxes: Stripe.Invoice.TotalTax[] = [];
  if (sub.automatic_tax.enabled) {
    invoice.automatic_tax = { disabled_reason: null, enabled: true, liability: { type: "self" }, provider: "stripe", status: "complete" };
    for (const line of lines) {
      const taxable = line.amount - (lineDiscount.get(line.id) ?? 0);
      const priceId = line.pricing?.price_details?.price;
      const price = priceId ? state.prices[typeof priceId === "string" ? priceId : priceId.id] : undefined;
      const inclusive = price?.tax_behavior === "inclusive";
      const amount = inclusive
        ? taxable - Math.round(taxable / (1 + SANDBOX_TAX_PERCENT / 100))
        : Math.round((taxable * SANDBOX_TAX_PERCENT) / 100);
      const tax: Stripe.InvoiceLineItem.Tax = {
        amount,
        tax_behavior: inclusive ? "inclusive" : "exclusive",
        tax_rate_details: { tax_rate: SANDBOX_TAX_RATE_ID },
        taxability_reason: "standard_rated",
        taxable_amount: inclusive ? taxable - amount : taxable,
        type: "tax_rate_details",
      };
      line.taxes = [tax];
      if (inclusive) inclusiveTax += amount;
      else exclusiveTax += amount;
    }
    for (const behavior of ["exclusive", "inclusive"] as const) {
      const taxes = lines.flatMap((line) => line.taxes ?? []).filter((t) => t.tax_behavior === behavior);
      if (taxes.length === 0) continue;
      totalTaxes.push({
        amount: taxes.reduce((sum, t) => sum + t.amount, 0),
        tax_behavior: behavior,
        tax_rate_details: { tax_rate: SANDBOX_TAX_RATE_ID },
        taxability_reason: "standard_rated",
        taxable_amount: taxes.reduce((sum, t) => sum + (t.taxable_amount ?? 0), 0),
        type: "tax_rate_details",
      });
    }
  }
  invoice.total_taxes = totalTaxes;
  invoice.subtotal_excluding_tax = invoice.subtotal - inclusiveTax;
  invoice.total = invoice.subtotal - discountTotal + exclusiveTax;
  invoice.total_excluding_tax = invoice.total - exclusiveTax - inclusiveTax;
  invoice.amount_due = Math.max(invoice.total, 0);
  invoice.amount_remaining = invoice.amount_due;
  return ended;
}

function addLineDiscount(line: Stripe.InvoiceLineItem, discount: string, amount: number, running: Map<string, number>): void {
  line.discount_amounts = [...(line.discount_amounts ?? []), { amount, discount }];
  line.pretax_credit_amounts = [...(line.pretax_credit_amounts ?? []), { amount, discount, type: "discount" }];
  running.set(line.id, (running.get(line.id) ?? 0) + amount);
}

/** What a Checkout Session will charge today: subtotal, discount, tax (when automatic tax is on), total. */
export function checkoutAmounts(
  state: SandboxState,
  input: { subtotal: number; currency: string; redemption: Redemption | null | undefined; automaticTax: boolean; inclusive: boolean },
): { subtotal: number; discount: number; tax: number; total: number } {
  const coupon = input.redemption ? state.coupons[input.redemption.coupon] : undefined;
  let discount = 0;
  if (coupon?.percent_off != null) discount = Math.round((input.subtotal * coupon.percent_off) / 100);
  else if (coupon?.amount_off != null && coupon.currency === input.currency) discount = Math.min(coupon.amount_off, input.subtotal);
  const taxable = input.subtotal - discount;
  const tax = !input.automaticTax
    ? 0
    : input.inclusive
      ? taxable - Math.round(taxable / (1 + SANDBOX_TAX_PERCENT / 100))
      : Math.round((taxable * SANDBOX_TAX_PERCENT) / 100);
  return { subtotal: input.subtotal, discount, tax, total: taxable + (input.inclusive ? 0 : tax) };
}

/**
 * The redemption a Checkout Session completes with: a code typed at completion (only when the session allows
 * promotion codes), else the one applied on the hosted page or given in `discounts` at create, checked again now.
 */
export function checkoutRedemption(
  state: SandboxState,
  session: Stripe.Checkout.Session,
  setup: CheckoutSetup | undefined,
  typed: string | undefined,
  context: { now: number; amount: number; currency: string },
): Redemption | null {
  const customer = typeof session.customer === "string" ? session.customer : (session.customer?.id ?? null);
  const full = { ...context, customer };
  if (typed !== undefined && typed.trim() !== "") {
    if (!session.allow_promotion_codes) throw codeRefused("This Checkout Session does not accept promotion codes.");
    return redeemableCode(state, typed, full);
  }
  const chosen = setup?.redemption;
  if (!chosen) return null;
  if (chosen.promotionCode) {
    const promo = state.promotionCodes[chosen.promotionCode];
    if (!promo) throw codeRefused("This code is invalid.");
    return checkPromotionCode(state, promo, full);
  }
  checkCoupon(state, chosen.coupon, full, "discounts[0][coupon]");
  return chosen;
}

/** The session's discount and amounts as the hosted page shows them before payment (tax once the address is known). */
export function priceCheckoutSession(state: SandboxState, session: Stripe.Checkout.Session, setup: CheckoutSetup | undefined): void {
  const line = setup?.lines[0];
  const price = line ? state.prices[line.price] : undefined;
  if (!line || !price) return;
  const redemption = setup?.redemption ?? null;
  const amounts = checkoutAmounts(state, {
    subtotal: (price.unit_amount ?? 0) * line.quantity,
    currency: price.currency,
    redemption,
    automaticTax: session.automatic_tax.enabled,
    inclusive: price.tax_behavior === "inclusive",
  });
  session.discounts = redemption ? [{ coupon: redemption.coupon, promotion_code: redemption.promotionCode }] : [];
  session.amount_subtotal = amounts.subtotal;
  session.amount_total = amounts.total;
  session.total_details = { amount_discount: amounts.discount, amount_shipping: 0, amount_tax: amounts.tax };
}

/** After payment: the session's amounts are the first invoice's. */
export function settleCheckoutTotals(session: Stripe.Checkout.Session, invoice: Stripe.Invoice | undefined, redemption: Redemption | null): void {
  session.discounts = redemption ? [{ coupon: redemption.coupon, promotion_code: redemption.promotionCode }] : [];
  if (session.automatic_tax.enabled) session.automatic_tax = { ...session.automatic_tax, status: "complete" };
  if (!invoice) return;
  session.amount_subtotal = invoice.subtotal;
  session.amount_total = invoice.total;
  session.total_details = {
    amount_discount: (invoice.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0),
    amount_shipping: 0,
    amount_tax: (invoice.total_taxes ?? []).reduce((sum, t) => sum + t.amount, 0),
  };
}

/**
 * What the subscription's discounts and automatic tax would make of a set of lines, without changing anything: the
 * portal's switch preview shows what Engine.changePrice will then charge.
 */
export function previewAdjustments(
  state: SandboxState,
  sub: Stripe.Subscription,
  customer: Stripe.Customer,
  lines: Array<{ amount: number; price: Stripe.Price; proration: boolean }>,
  at: number,
): { discount: number; tax: number; total: number } {
  const draft = invoiceObject({
    id: "in_preview",
    customer,
    subscription: sub,
    billingReason: "subscription_update",
    lines: lines.map((line) => ({
      amount: line.amount,
      description: "",
      price: line.price,
      quantity: 1,
      periodStart: at,
      periodEnd: at,
      proration: line.proration,
      subscriptionItem: sub.items.data[0]?.id ?? "",
    })),
    periodStart: at,
    periodEnd: at,
    defaultPaymentMethod: null,
    hostedInvoiceUrl: "",
    now: at,
  });
  adjustInvoice(state, draft, clone(sub), at);
  return {
    discount: (draft.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0),
    tax: (draft.total_taxes ?? []).filter((t) => t.tax_behavior !== "inclusive").reduce((sum, t) => sum + t.amount, 0),
    total: draft.total,
  };
}

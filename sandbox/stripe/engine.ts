// The billing engine: what Stripe does to subscriptions, invoices and customers when a request or the passage of time
// asks for it, and the events that come out, in Stripe's order. All times are passed in explicitly (`at`), because a
// customer on a test clock lives at the clock's frozen time, not at the wall clock.
import type Stripe from "stripe";
import { STRIPE_SANDBOX_DEFAULT_PORT } from "../../lib/local-services";
import { PAYMENT_METHOD_TOKENS, readCard } from "./cards";
import { adjustInvoice, checkoutRedemption, redeemOnSubscription, settleCheckoutTotals } from "./discounts";
import { StripeApiError, cardDeclined, invalidRequest, resourceMissing } from "./errors";
import {
  chargeObject,
  checkoutSessionObject,
  customerObject,
  disputeObject,
  invoicePaymentObject,
  refundObject,
  invoiceObject,
  paymentIntentObject,
  paymentMethodObject,
  subscriptionItemObject,
  subscriptionObject,
  testClockObject,
  toAddress,
  type AddressInput,
  type LineInput,
  type TestCard,
} from "./objects";
import { isMetered, meteredLine } from "./metered";
import { schedulePhase, subscriptionScheduleObject } from "./schedules";
import { API_VERSION, clone, emptyState, newId, realNow, type CheckoutSetup, type Redemption, type SandboxState } from "./state";

export interface RequestContext {
  requestId: string | null;
  idempotencyKey: string | null;
  /** base URL the caller reached the sandbox through; hosted page links are built on it */
  baseUrl: string;
}

export const AUTOMATIC = (baseUrl: string): RequestContext => ({ requestId: null, idempotencyKey: null, baseUrl });

const DAY = 24 * 3600;
// Stripe's default Smart Retries stand-in: retry a failed renewal 3, 5 and 7 days apart, then cancel the subscription.
const RETRY_GAPS_DAYS = [3, 5, 7];
// Stripe gives an `incomplete` subscription 23 hours to be paid before it expires.
const INCOMPLETE_WINDOW = 23 * 3600;

type Interval = Stripe.Price.Recurring.Interval;

export function addInterval(anchor: number, interval: Interval, count: number): number {
  switch (interval) {
    case "day":
      return anchor + count * DAY;
    case "week":
      return anchor + count * 7 * DAY;
    case "month":
    case "year": {
      const months = (interval === "year" ? 12 : 1) * count;
      const d = new Date(anchor * 1000);
      const firstOfTarget = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
      const daysInTarget = new Date(Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 1, 0)).getUTCDate();
      // Stripe keeps the anchor day and clamps to the month's last day (Jan 31 -> Feb 28 -> Mar 31).
      const day = Math.min(d.getUTCDate(), daysInTarget);
      return (
        Date.UTC(
          firstOfTarget.getUTCFullYear(),
          firstOfTarget.getUTCMonth(),
          day,
          d.getUTCHours(),
          d.getUTCMinutes(),
          d.getUTCSeconds(),
        ) / 1000
      );
    }
    default:
      throw invalidRequest(`Unsupported interval: ${interval}`);
  }
}

type Json = unknown;

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Stripe's `previous_attributes`: changed keys with their old values, nested hashes partially, arrays whole. */
export function previousAttributes(before: Json, after: Json): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (!isPlainObject(before) || !isPlainObject(after)) return out;
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (isPlainObject(a) && isPlainObject(b)) out[key] = previousAttributes(a, b);
    else out[key] = a === undefined ? null : a;
  }
  return out;
}

export const idOf = (value: string | { id: string } | null): string | null =>
  value === null ? null : typeof value === "string" ? value : value.id;

export interface EngineHooks {
  onEvent(event: Stripe.EventBase): void;
  onChange(): void;
}

export interface CheckoutCompletion {
  card: string;
  expiry?: { month: number; year: number } | undefined;
  email?: string | undefined;
  name?: string | undefined;
  address?: AddressInput | undefined;
  /** A promotion code typed at Checkout (the hosted page applies it before paying; the test route takes it here) */
  promotionCode?: string | undefined;
}

/** Stripe allows three customers per test clock. */
const MAX_CUSTOMERS_PER_TEST_CLOCK = 3;

export class Engine {
  state: SandboxState = emptyState();

  constructor(
    private readonly hooks: EngineHooks,
    readonly autoTestClock: boolean,
  ) {}

  // ---- time ------------------------------------------------------------------------------------------------

  nowForClock(clockId: string | null): number {
    if (clockId === null) return realNow();
    return this.state.testClocks[clockId]?.frozen_time ?? realNow();
  }

  nowForCustomer(customerId: string): number {
    return this.nowForClock(idOf(this.state.customers[customerId]?.test_clock ?? null));
  }

  // ---- events ----------------------------------------------------------------------------------------------

  emit(
    type: Stripe.Event.Type,
    object: object,
    ctx: RequestContext,
    at: number,
    before?: object,
  ): Stripe.EventBase {
    const data: Stripe.Event.Data = { object: clone(object) };
    if (before) data.previous_attributes = previousAttributes(clone(before), clone(object));
    const event = {
      id: newId("evt", 24),
      object: "event",
      api_version: API_VERSION,
      created: at,
      data,
      livemode: false,
      pending_webhooks: 0,
      request: { id: ctx.requestId, idempotency_key: ctx.idempotencyKey },
      type,
    } satisfies Stripe.EventBase;
    this.state.events[event.id] = event;
    this.hooks.onEvent(event);
    return event;
  }

  // ---- lookups ---------------------------------------------------------------------------------------------

  requireCustomer(id: string, param = "id"): Stripe.Customer {
    const customer = this.state.customers[id];
    if (!customer) throw resourceMissing("customer", id, param);
    return customer;
  }

  requirePrice(id: string, param = "price"): Stripe.Price {
    const price = this.state.prices[id];
    if (!price) throw resourceMissing("price", id, param);
    return price;
  }

  requireSubscription(id: string, param = "id"): Stripe.Subscription {
    const sub = this.state.subscriptions[id];
    if (!sub) throw resourceMissing("subscription", id, param);
    return sub;
  }

  requireInvoice(id: string, param = "id"): Stripe.Invoice {
    const invoice = this.state.invoices[id];
    if (!invoice) throw resourceMissing("invoice", id, param);
    return invoice;
  }

  productName(price: Stripe.Price): string {
    const productId = idOf(price.product);
    return (productId && this.state.products[productId]?.name) || price.nickname || price.id;
  }

  // ---- test clocks -----------------------------------------------------------------------------------------

  createTestClock(frozenTime: number, name: string | null, ctx: RequestContext): Stripe.TestHelpers.TestClock {
    const clock = testClockObject({ frozenTime, name, now: realNow() });
    this.state.testClocks[clock.id] = clock;
    this.emit("test_helpers.test_clock.created", clock, ctx, frozenTime);
    return clock;
  }

  advanceClock(clock: Stripe.TestHelpers.TestClock, to: number, ctx: RequestContext): Stripe.TestHelpers.TestClock {
    if (to <= clock.frozen_time) {
      throw invalidRequest("The frozen_time must be after the test clock's current frozen_time.", "frozen_time");
    }
    clock.status = "advancing";
    clock.status_details = { advancing: { target_frozen_time: to } };
    this.emit("test_helpers.test_clock.advancing", clock, ctx, clock.frozen_time);
    this.runUntil(to, (sub) => sub.test_clock === clock.id, (at) => {
      clock.frozen_time = at;
    });
    clock.frozen_time = to;
    clock.status = "ready";
    clock.status_details = {};
    this.emit("test_helpers.test_clock.ready", clock, ctx, to);
    this.hooks.onChange();
    return clock;
  }

  deleteTestClock(clock: Stripe.TestHelpers.TestClock, ctx: RequestContext): void {
    for (const customer of Object.values(this.state.customers)) {
      if (customer.test_clock === clock.id) this.deleteCustomer(customer, ctx, true);
    }
    delete this.state.testClocks[clock.id];
    // The event carries the clock as it was (Stripe.TestClock has no `deleted`); only the DELETE response says deleted.
    this.emit("test_helpers.test_clock.deleted", clock, ctx, clock.frozen_time);
  }

  // ---- customers and payment methods -----------------------------------------------------------------------

  createCustomer(
    input: {
      email: string | null;
      name: string | null;
      description: string | null;
      phone: string | null;
      address: Stripe.Address | null;
      metadata: Record<string, string>;
      paymentMethod: string | null;
      testClock: string | null;
    },
    ctx: RequestContext,
  ): Stripe.Customer {
    let testClock = input.testClock;
    if (testClock !== null && !this.state.testClocks[testClock]) throw resourceMissing("test_helpers.test_clock", testClock, "test_clock");
    // As on Stripe, a test clock holds at most three customers.
    const onClock = testClock === null ? 0 : Object.values(this.state.customers).filter((c) => c.test_clock === testClock).length;
    if (onClock >= MAX_CUSTOMERS_PER_TEST_CLOCK) {
      throw invalidRequest(`A test clock can have at most ${MAX_CUSTOMERS_PER_TEST_CLOCK} customers; ${testClock} already has ${onClock}. Create another test clock.`, "test_clock");
    }
    // A card refused on attach refuses the whole create: no customer is left behind.
    const pm = input.paymentMethod ? this.resolvePaymentMethod(input.paymentMethod, "payment_method") : null;
    const pmDecline = pm ? this.state.attachDeclines[pm.id] : undefined;
    if (pmDecline) throw cardDeclined(pmDecline);
    if (testClock === null && this.autoTestClock) {
      // Every customer gets its own clock so a developer or an end-to-end test can move just this customer's time.
      testClock = this.createTestClock(realNow(), `Sandbox clock for ${input.email ?? "customer"}`, ctx).id;
    }
    const at = this.nowForClock(testClock);
    const customer = customerObject({ ...input, defaultPaymentMethod: null, testClock, now: at });
    this.state.customers[customer.id] = customer;
    if (pm) {
      customer.invoice_settings.default_payment_method = this.attachPaymentMethod(pm.id, customer, ctx).id;
    }
    this.emit("customer.created", customer, ctx, at);
    return customer;
  }

  updateCustomer(customer: Stripe.Customer, change: (c: Stripe.Customer) => void, ctx: RequestContext): Stripe.Customer {
    const before = clone(customer);
    change(customer);
    if (JSON.stringify(before) !== JSON.stringify(customer)) {
      this.emit("customer.updated", customer, ctx, this.nowForCustomer(customer.id), before);
    }
    return customer;
  }

  deleteCustomer(customer: Stripe.Customer, ctx: RequestContext, purge: boolean): void {
    const at = this.nowForCustomer(customer.id);
    for (const sub of Object.values(this.state.subscriptions)) {
      if (sub.customer !== customer.id) continue;
      if (sub.status !== "canceled" && sub.status !== "incomplete_expired") this.endSubscription(sub, at, ctx, "cancellation_requested");
      if (purge) delete this.state.subscriptions[sub.id];
    }
    if (purge) {
      for (const invoice of Object.values(this.state.invoices)) {
        if (invoice.customer === customer.id) delete this.state.invoices[invoice.id];
      }
      for (const session of Object.values(this.state.checkoutSessions)) {
        if (session.customer === customer.id) delete this.state.checkoutSessions[session.id];
      }
    }
    for (const pm of Object.values(this.state.paymentMethods)) {
      if (pm.customer === customer.id) delete this.state.paymentMethods[pm.id];
    }
    delete this.state.customers[customer.id];
    this.emit("customer.deleted", customer, ctx, at);
  }

  createCardPaymentMethod(
    card: TestCard,
    customer: Stripe.Customer | null,
    billing: { email: string | null; name: string | null; address: Stripe.Address | null },
  ): Stripe.PaymentMethod {
    const pm = paymentMethodObject({
      card,
      customer: customer?.id ?? null,
      billing,
      now: customer ? this.nowForCustomer(customer.id) : realNow(),
    });
    this.state.paymentMethods[pm.id] = pm;
    if (card.declineCode) this.state.declineCodes[pm.id] = card.declineCode;
    if (card.declineCode && card.declinesOnAttach) this.state.attachDeclines[pm.id] = card.declineCode;
    if (card.disputesCharges) (this.state.disputingCards ??= {})[pm.id] = true;
    return pm;
  }

  /**
   * A card typed into the portal: attached to the customer (a card that declines is refused here, as Stripe's card
   * check refuses it) and made the default for the customer and their subscriptions.
   */
  saveCustomerCard(card: TestCard, customer: Stripe.Customer, ctx: RequestContext): Stripe.PaymentMethod {
    if (card.declineCode && card.declinesOnAttach) throw cardDeclined(card.declineCode);
    const pm = this.createCardPaymentMethod(card, null, { email: customer.email ?? null, name: customer.name ?? null, address: customer.address ?? null });
    this.attachPaymentMethod(pm.id, customer, ctx);
    this.updateDefaultPaymentMethod(customer, pm, ctx);
    return pm;
  }

  /** Resolves a payment method id or one of Stripe's `pm_card_*` test tokens (which mint a fresh payment method). */
  resolvePaymentMethod(id: string, param: string): Stripe.PaymentMethod {
    const token = PAYMENT_METHOD_TOKENS[id];
    if (token) return this.createCardPaymentMethod(readCard(token), null, { email: null, name: null, address: null });
    const pm = this.state.paymentMethods[id];
    if (!pm) throw resourceMissing("PaymentMethod", id, param);
    return pm;
  }

  attachPaymentMethod(id: string, customer: Stripe.Customer, ctx: RequestContext, param = "payment_method"): Stripe.PaymentMethod {
    const pm = this.resolvePaymentMethod(id, param);
    if (pm.customer && pm.customer !== customer.id) {
      throw invalidRequest("The payment method you provided has already been attached to a customer.", param);
    }
    const declined = this.state.attachDeclines[pm.id];
    if (declined && pm.customer !== customer.id) throw cardDeclined(declined);
    if (pm.customer !== customer.id) {
      pm.customer = customer.id;
      this.emit("payment_method.attached", pm, ctx, this.nowForCustomer(customer.id));
    }
    return pm;
  }

  // ---- subscriptions ---------------------------------------------------------------------------------------

  private chargeablePaymentMethod(sub: Stripe.Subscription, customer: Stripe.Customer): string | null {
    return idOf(sub.default_payment_method) ?? idOf(customer.invoice_settings.default_payment_method);
  }

  private canCharge(pmId: string | null): boolean {
    return pmId !== null && this.state.paymentMethods[pmId] !== undefined && this.state.declineCodes[pmId] === undefined;
  }

  createSubscription(
    input: {
      customer: Stripe.Customer;
      price: Stripe.Price;
      quantity: number;
      paymentMethod: string | null;
      metadata: Record<string, string>;
      description: string | null;
      paymentBehavior: "allow_incomplete" | "default_incomplete" | "error_if_incomplete";
      cancelAt: number | null;
      cancelAtPeriodEnd: boolean;
      /** a coupon or promotion code to redeem into the subscription's discount (discounts.ts) */
      redemption?: Redemption | null;
      automaticTax?: boolean;
      checkoutSession?: string | null;
      /** Starts trialing for this many days: the first invoice is $0 and the first charge comes at the trial end. */
      trialPeriodDays?: number | null;
      /** Metered prices added as further items (no quantity): their usage is billed in arrears at each renewal. */
      meteredPrices?: Stripe.Price[];
    },
    ctx: RequestContext,
  ): Stripe.Subscription {
    const { customer, price } = input;
    if (!price.recurring) throw invalidRequest("The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.", "items[0][price]");
    const at = this.nowForCustomer(customer.id);
    const pmId = input.paymentMethod ?? idOf(customer.invoice_settings.default_payment_method);
    const willPay = input.paymentBehavior !== "default_incomplete" && this.canCharge(pmId);
    // A trial is the first period; the billing cycle is anchored at its end (Stripe's default trial behaviour).
    const trialEnd = input.trialPeriodDays ? at + input.trialPeriodDays * DAY : null;
    if (!willPay && trialEnd === null && input.paymentBehavior === "error_if_incomplete") {
      throw pmId ? cardDeclined(this.state.declineCodes[pmId] ?? "generic_decline") : invalidRequest("This customer has no attached payment source or default payment method.");
    }
    const id = newId("sub", 24);
    const item = subscriptionItemObject({
      subscription: id,
      price,
      quantity: input.quantity,
      periodStart: at,
      periodEnd: trialEnd ?? addInterval(at, price.recurring.interval, price.recurring.interval_count),
      now: at,
    });
    const sub = subscriptionObject({
      id,
      customer: customer.id,
      item,
      defaultPaymentMethod: input.paymentMethod,
      metadata: input.metadata,
      description: input.description,
      status: trialEnd !== null ? "trialing" : willPay ? "active" : "incomplete",
      testClock: idOf(customer.test_clock ?? null),
      now: at,
    });
    for (const metered of input.meteredPrices ?? []) {
      sub.items.data.push(subscriptionItemObject({ subscription: id, price: metered, quantity: undefined, periodStart: at, periodEnd: item.current_period_end, now: at }));
    }
    if (trialEnd !== null) {
      sub.trial_start = at;
      sub.trial_end = trialEnd;
      sub.billing_cycle_anchor = trialEnd;
    }
    if (input.cancelAtPeriodEnd) {
      sub.cancel_at_period_end = true;
      sub.cancel_at = item.current_period_end;
      sub.canceled_at = at;
    } else if (input.cancelAt !== null) {
      sub.cancel_at = input.cancelAt;
      sub.canceled_at = at;
    }
    if (input.automaticTax) sub.automatic_tax = { disabled_reason: null, enabled: true, liability: { type: "self" } };
    if (input.redemption) {
      const target = { subscription: id, customer: customer.id, checkoutSession: input.checkoutSession ?? null, now: at };
      sub.discounts = [redeemOnSubscription(this.state, input.redemption, target).id];
    }
    this.state.subscriptions[id] = sub;
    // Renewal n ends at anchor + n intervals; a trial's anchor is its end, so its first renewal is cycle 1.
    this.state.cycles[id] = trialEnd !== null ? 0 : 1;
    const firstLine = trialEnd !== null ? this.trialLine(item, at, trialEnd) : this.fullPeriodLine(sub, item, at, item.current_period_end);
    const invoice = this.draftInvoice(sub, customer, "subscription_create", [firstLine], at, item.current_period_end, ctx);
    sub.latest_invoice = invoice.id;
    this.emit("customer.subscription.created", sub, ctx, at);
    for (const d of sub.discounts) {
      const discount = this.state.discounts[idOf(d) ?? ""];
      if (discount) this.emit("customer.discount.created", discount, ctx, at);
    }
    const paid = this.runInvoice(invoice, sub, customer, at, ctx, { retries: false, attempt: input.paymentBehavior !== "default_incomplete" });
    if (!paid && sub.status === "active") this.setStatus(sub, "incomplete", at, ctx);
    return sub;
  }

  private fullPeriodLine(sub: Stripe.Subscription, item: Stripe.SubscriptionItem, start: number, end: number): LineInput {
    const quantity = item.quantity ?? 1;
    return {
      amount: (item.price.unit_amount ?? 0) * quantity,
      description: `${quantity} × ${this.productName(item.price)} (at ${formatAmount(item.price.unit_amount ?? 0, item.price.currency)} / ${item.price.recurring?.interval ?? "month"})`,
      price: item.price,
      quantity,
      periodStart: start,
      periodEnd: end,
      proration: false,
      subscriptionItem: item.id,
    };
  }

  /** The $0 line of a trial's first invoice, as Stripe words it. */
  private trialLine(item: Stripe.SubscriptionItem, start: number, end: number): LineInput {
    const quantity = item.quantity ?? 1;
    return {
      amount: 0,
      description: `Trial period for ${this.productName(item.price)}`,
      price: item.price,
      quantity,
      periodStart: start,
      periodEnd: end,
      proration: false,
      subscriptionItem: item.id,
    };
  }

  private setStatus(sub: Stripe.Subscription, status: Stripe.Subscription.Status, at: number, ctx: RequestContext): void {
    if (sub.status === status) return;
    const before = clone(sub);
    sub.status = status;
    this.emit("customer.subscription.updated", sub, ctx, at, before);
  }

  /** Applies a change to a subscription and emits `customer.subscription.updated` when anything moved. */
  changeSubscription(sub: Stripe.Subscription, change: (s: Stripe.Subscription) => void, ctx: RequestContext): Stripe.Subscription {
    const before = clone(sub);
    change(sub);
    if (JSON.stringify(before) !== JSON.stringify(sub)) {
      this.emit("customer.subscription.updated", sub, ctx, this.nowForCustomer(String(sub.customer)), before);
    }
    return sub;
  }

  /**
   * Switches the subscription's single item to another price. With prorations, the unused time on the old price is
   * credited and the rest of the period on the new price charged right away on an invoice with
   * `billing_reason: subscription_update` (Stripe's `always_invoice`; the sandbox invoices `create_prorations` at once too).
   */
  changePrice(
    sub: Stripe.Subscription,
    price: Stripe.Price,
    quantity: number | null,
    prorationBehavior: string,
    ctx: RequestContext,
    extraChange?: (s: Stripe.Subscription) => void,
  ): Stripe.Subscription {
    if (sub.status === "canceled" || sub.status === "incomplete_expired") {
      throw invalidRequest("A canceled subscription can only update its cancellation_details and metadata.");
    }
    if (!price.recurring) throw invalidRequest("The price specified is not recurring.", "items[0][price]");
    const item = sub.items.data[0];
    if (!item) throw invalidRequest("This subscription has no items.");
    const customer = this.requireCustomer(String(sub.customer), "customer");
    const at = this.nowForCustomer(customer.id);
    const before = clone(sub);
    const oldPrice = item.price;
    const oldQuantity = item.quantity ?? 1;
    const newQuantity = quantity ?? oldQuantity;
    const sameInterval =
      oldPrice.recurring?.interval === price.recurring.interval &&
      oldPrice.recurring?.interval_count === price.recurring.interval_count;
    const periodStart = item.current_period_start;
    const periodEnd = item.current_period_end;
    item.price = price;
    item.plan = { ...item.plan, ...planOf(price) };
    item.quantity = newQuantity;
    extraChange?.(sub);
    const lines: LineInput[] = [];
    const remaining = Math.max(0, periodEnd - at);
    const total = Math.max(1, periodEnd - periodStart);
    if (prorationBehavior !== "none" && remaining > 0) {
      lines.push(this.unusedTimeCredit(item, oldPrice, oldQuantity, at, periodStart, periodEnd));
    }
    if (!sameInterval) {
      // A new interval restarts the billing cycle now, as Stripe does, and bills the whole new period.
      item.current_period_start = at;
      item.current_period_end = addInterval(at, price.recurring.interval, price.recurring.interval_count);
      sub.billing_cycle_anchor = at;
      this.state.cycles[sub.id] = 1;
      lines.push(this.fullPeriodLine(sub, item, at, item.current_period_end));
    } else if (prorationBehavior !== "none" && remaining > 0) {
      lines.push({
        amount: Math.round(((price.unit_amount ?? 0) * newQuantity * remaining) / total),
        description: `Remaining time on ${newQuantity} × ${this.productName(price)} after ${formatDate(at)}`,
        price,
        quantity: newQuantity,
        periodStart: at,
        periodEnd,
        proration: true,
        subscriptionItem: item.id,
      });
    }
    let invoice: Stripe.Invoice | null = null;
    if (lines.length > 0) {
      invoice = this.draftInvoice(sub, customer, "subscription_update", lines, at, item.current_period_end, ctx);
      sub.latest_invoice = invoice.id;
    }
    this.emit("customer.subscription.updated", sub, ctx, at, before);
    if (invoice) {
      const paid = this.runInvoice(invoice, sub, customer, at, ctx, { retries: true, attempt: true });
      if (!paid && sub.status === "active") this.setStatus(sub, "past_due", at, ctx);
    }
    return sub;
  }

  /** The proration line crediting an item's price for the rest of its period after `at`. */
  private unusedTimeCredit(item: Stripe.SubscriptionItem, price: Stripe.Price, quantity: number, at: number, periodStart: number, periodEnd: number): LineInput {
    const total = Math.max(1, periodEnd - periodStart);
    return {
      amount: -Math.round(((price.unit_amount ?? 0) * quantity * Math.max(0, periodEnd - at)) / total),
      description: `Unused time on ${quantity} × ${this.productName(price)} after ${formatDate(at)}`,
      price,
      quantity,
      periodStart: at,
      periodEnd,
      proration: true,
      subscriptionItem: item.id,
    };
  }

  // ---- subscription schedules ------------------------------------------------------------------------------

  /** The live schedule managing the subscription, if any. */
  activeSchedule(sub: Stripe.Subscription): Stripe.SubscriptionSchedule | null {
    const schedule = this.state.subscriptionSchedules[idOf(sub.schedule) ?? ""];
    return schedule && (schedule.status === "active" || schedule.status === "not_started") ? schedule : null;
  }

  /**
   * A price change at the period end, as the portal makes a downgrade under `schedule_at_period_end`: a schedule of
   * two phases (the current price until the period end, then `price` for one period), released when the second
   * ends. Nothing is charged or credited now. A change already scheduled is replaced.
   */
  schedulePriceChange(sub: Stripe.Subscription, price: Stripe.Price, ctx: RequestContext): Stripe.SubscriptionSchedule {
    if (sub.status === "canceled" || sub.status === "incomplete_expired") {
      throw invalidRequest("A canceled subscription can only update its cancellation_details and metadata.");
    }
    const item = sub.items.data[0];
    if (!item) throw invalidRequest("This subscription has no items.");
    if (!price.recurring) throw invalidRequest("The price specified is not recurring.", "items[0][price]");
    const at = this.nowForCustomer(String(sub.customer));
    const start = item.current_period_end;
    const phases = [
      schedulePhase({ price: item.price, quantity: item.quantity ?? 1, start: item.current_period_start, end: start }),
      schedulePhase({ price, quantity: item.quantity ?? 1, start, end: addInterval(start, price.recurring.interval, price.recurring.interval_count) }),
    ];
    const existing = this.activeSchedule(sub);
    if (existing) {
      const before = clone(existing);
      existing.phases = phases;
      this.emit("subscription_schedule.updated", existing, ctx, at, before);
      return existing;
    }
    const schedule = subscriptionScheduleObject({ subscription: sub, phases, now: at });
    this.state.subscriptionSchedules[schedule.id] = schedule;
    this.emit("subscription_schedule.created", schedule, ctx, at);
    this.changeSubscription(sub, (s) => {
      s.schedule = schedule.id;
    }, ctx);
    return schedule;
  }

  /**
   * Whether the portal makes a switch to `price` at the period end rather than now: when one of the configuration's
   * `schedule_at_period_end` conditions holds (a lower amount per period, or a shorter interval).
   */
  portalSchedulesSwitch(sub: Stripe.Subscription, price: Stripe.Price, config: Stripe.BillingPortal.Configuration): boolean {
    const item = sub.items.data[0];
    if (!item) return false;
    const quantity = item.quantity ?? 1;
    const conditions = config.features.subscription_update.schedule_at_period_end?.conditions ?? [];
    return conditions.some((condition) => {
      switch (condition.type) {
        case "decreasing_item_amount":
          return (price.unit_amount ?? 0) * quantity < (item.price.unit_amount ?? 0) * quantity;
        case "shortening_interval":
          return intervalDays(price) < intervalDays(item.price);
        default:
          return false;
      }
    });
  }

  /** The portal's plan switch: at the period end when the configuration says so, else now (ending a scheduled one). */
  portalSwitch(sub: Stripe.Subscription, price: Stripe.Price, config: Stripe.BillingPortal.Configuration, ctx: RequestContext): { scheduledFor: number | null } {
    if (this.portalSchedulesSwitch(sub, price, config)) {
      const schedule = this.schedulePriceChange(sub, price, ctx);
      return { scheduledFor: schedule.phases[1]?.start_date ?? null };
    }
    const schedule = this.activeSchedule(sub);
    if (schedule) this.releaseSchedule(schedule, ctx);
    this.changePrice(sub, price, null, config.features.subscription_update.proration_behavior, ctx);
    return { scheduledFor: null };
  }

  /** The price change a live schedule will make at the subscription's next renewal, if any. */
  scheduledSwitch(sub: Stripe.Subscription): { price: Stripe.Price; at: number } | null {
    const item = sub.items.data[0];
    const schedule = this.activeSchedule(sub);
    if (!item || !schedule) return null;
    const next = schedule.phases.find((phase) => phase.start_date >= item.current_period_end);
    const price = next?.items[0] ? this.state.prices[idOf(next.items[0].price) ?? ""] : undefined;
    return next && price && price.id !== item.price.id ? { price, at: next.start_date } : null;
  }

  /** `POST /v1/subscription_schedules/:id/release`: the subscription stays as it is now and is no longer managed. */
  releaseSchedule(schedule: Stripe.SubscriptionSchedule, ctx: RequestContext, at?: number): Stripe.SubscriptionSchedule {
    if (schedule.status !== "active" && schedule.status !== "not_started") {
      throw invalidRequest(`You cannot release a subscription schedule that is currently in the \`${schedule.status}\` status. It must be in \`not_started\` or \`active\`.`);
    }
    const subId = idOf(schedule.subscription);
    const sub = subId ? this.state.subscriptions[subId] : undefined;
    const when = at ?? (sub ? this.nowForCustomer(String(sub.customer)) : realNow());
    const before = clone(schedule);
    schedule.status = "released";
    schedule.released_at = when;
    schedule.released_subscription = subId;
    schedule.subscription = null;
    schedule.current_phase = null;
    this.emit("subscription_schedule.released", schedule, ctx, when, before);
    if (sub && idOf(sub.schedule) === schedule.id) {
      const subBefore = clone(sub);
      sub.schedule = null;
      this.emit("customer.subscription.updated", sub, ctx, when, subBefore);
    }
    return schedule;
  }

  /**
   * At a renewal: a phase that starts now puts its price on the subscription (no proration: the new price is billed
   * for the period that starts); a schedule whose last phase ended is released.
   */
  private enterSchedulePhase(sub: Stripe.Subscription, item: Stripe.SubscriptionItem, at: number, ctx: RequestContext): void {
    const schedule = this.activeSchedule(sub);
    if (!schedule) return;
    const starting = schedule.phases.find((phase) => phase.start_date === item.current_period_end);
    const phaseItem = starting?.items[0];
    const price = phaseItem ? this.state.prices[idOf(phaseItem.price) ?? ""] : undefined;
    if (starting && price) {
      const before = clone(schedule);
      item.price = price;
      item.plan = { ...item.plan, ...planOf(price) };
      item.quantity = phaseItem?.quantity ?? item.quantity;
      schedule.current_phase = { start_date: starting.start_date, end_date: starting.end_date };
      this.emit("subscription_schedule.updated", schedule, ctx, at, before);
      return;
    }
    const last = schedule.phases.at(-1);
    if (!last || last.end_date <= at) {
      const before = clone(schedule);
      schedule.status = "released";
      schedule.released_at = at;
      schedule.released_subscription = sub.id;
      schedule.subscription = null;
      schedule.current_phase = null;
      sub.schedule = null;
      this.emit("subscription_schedule.released", schedule, ctx, at, before);
    }
  }

  scheduleCancel(sub: Stripe.Subscription, mode: { atPeriodEnd: boolean } | { at: number | null }, ctx: RequestContext): Stripe.Subscription {
    const at = this.nowForCustomer(String(sub.customer));
    return this.changeSubscription(
      sub,
      (s) => {
        const periodEnd = s.items.data[0]?.current_period_end ?? at;
        if ("atPeriodEnd" in mode) {
          s.cancel_at_period_end = mode.atPeriodEnd;
          s.cancel_at = mode.atPeriodEnd ? periodEnd : null;
        } else {
          s.cancel_at_period_end = false;
          s.cancel_at = mode.at;
        }
        const scheduled = s.cancel_at !== null;
        s.canceled_at = scheduled ? (s.canceled_at ?? at) : null;
        s.cancellation_details = {
          ...s.cancellation_details,
          comment: s.cancellation_details?.comment ?? null,
          feedback: s.cancellation_details?.feedback ?? null,
          feedback_option: s.cancellation_details?.feedback_option ?? null,
          reason: scheduled ? "cancellation_requested" : null,
        };
      },
      ctx,
    );
  }

  /**
   * `DELETE /v1/subscriptions/:id`. With `invoice_now` and `prorate` both set, a final invoice bills what was not
   * invoiced yet (see `endWithFinalInvoice`); without both, Stripe discards the metered usage and credits nothing.
   */
  cancelNow(sub: Stripe.Subscription, options: { invoiceNow: boolean; prorate: boolean }, ctx: RequestContext): Stripe.Subscription {
    const at = this.nowForCustomer(String(sub.customer));
    if (options.invoiceNow && options.prorate) return this.endWithFinalInvoice(sub, at, ctx);
    return this.endSubscription(sub, at, ctx, "cancellation_requested");
  }

  /**
   * Ends a subscription with its final invoice, as a cancellation with `invoice_now` and `prorate` does and as a
   * scheduled one (`cancel_at`, the portal's cancel at the period end) always does: each metered item's usage since
   * its period began (its last second included), less a credit for the licensed item's unused time (none at the
   * period end, nor in a trial). It is finalized and charged at once (Stripe may hold it for its hour of usage grace);
   * a negative total becomes the customer's credit balance. Nothing to bill, no invoice.
   */
  private endWithFinalInvoice(sub: Stripe.Subscription, at: number, ctx: RequestContext): Stripe.Subscription {
    const customer = this.requireCustomer(String(sub.customer), "customer");
    const licensed = sub.items.data.find((item) => !isMetered(item.price));
    const lines: LineInput[] = [];
    for (const item of sub.items.data) {
      if (item === licensed || !isMetered(item.price)) continue;
      lines.push(meteredLine(this.state, item, customer.id, this.productName(item.price), { start: item.current_period_start, end: at }, { throughEnd: true }));
    }
    if (licensed && licensed.current_period_end > at && sub.status !== "trialing") {
      lines.push(this.unusedTimeCredit(licensed, licensed.price, licensed.quantity ?? 1, at, licensed.current_period_start, licensed.current_period_end));
    }
    const billed = lines.some((line) => line.amount !== 0);
    const invoice = billed ? this.draftInvoice(sub, customer, "subscription_update", lines, licensed?.current_period_start ?? at, at, ctx) : null;
    if (invoice) {
      invoice.created = at;
      sub.latest_invoice = invoice.id;
    }
    this.endSubscription(sub, at, ctx, "cancellation_requested");
    if (invoice) this.runInvoice(invoice, sub, customer, at, ctx, { retries: false, attempt: true });
    return sub;
  }

  /** Ends a subscription now (DELETE, a reached `cancel_at`, exhausted retries): status `canceled` and `...deleted`. */
  endSubscription(
    sub: Stripe.Subscription,
    at: number,
    ctx: RequestContext,
    reason: Stripe.Subscription.CancellationDetails.Reason,
  ): Stripe.Subscription {
    sub.status = "canceled";
    sub.ended_at = at;
    sub.canceled_at = sub.canceled_at ?? at;
    if (sub.cancel_at !== null && sub.cancel_at > at) sub.cancel_at = null;
    sub.cancellation_details = {
      comment: sub.cancellation_details?.comment ?? null,
      feedback: sub.cancellation_details?.feedback ?? null,
      feedback_option: sub.cancellation_details?.feedback_option ?? null,
      reason,
    };
    const schedule = this.activeSchedule(sub);
    if (schedule) {
      // Ending the subscription ends the schedule that managed it.
      const scheduleBefore = clone(schedule);
      schedule.status = "canceled";
      schedule.canceled_at = at;
      schedule.current_phase = null;
      this.emit("subscription_schedule.canceled", schedule, ctx, at, scheduleBefore);
    }
    this.emit("customer.subscription.deleted", sub, ctx, at);
    return sub;
  }

  updateDefaultPaymentMethod(customer: Stripe.Customer, pm: Stripe.PaymentMethod, ctx: RequestContext): void {
    this.updateCustomer(customer, (c) => (c.invoice_settings.default_payment_method = pm.id), ctx);
    for (const sub of Object.values(this.state.subscriptions)) {
      if (sub.customer !== customer.id || sub.status === "canceled" || sub.status === "incomplete_expired") continue;
      this.changeSubscription(sub, (s) => (s.default_payment_method = pm.id), ctx);
      // A new card settles what the old one could not, as the portal does with a past-due subscription.
      const latest = sub.latest_invoice ? this.state.invoices[idOf(sub.latest_invoice) ?? ""] : undefined;
      if (latest && latest.status === "open" && (sub.status === "past_due" || sub.status === "incomplete")) {
        this.payInvoice(latest, ctx);
      }
    }
  }

  // ---- invoices --------------------------------------------------------------------------------------------

  private draftInvoice(
    sub: Stripe.Subscription,
    customer: Stripe.Customer,
    reason: Stripe.Invoice.BillingReason,
    lines: LineInput[],
    periodStart: number,
    periodEnd: number,
    ctx: RequestContext,
  ): Stripe.Invoice {
    const id = newId("in", 24);
    const invoice = invoiceObject({
      id,
      customer,
      subscription: sub,
      billingReason: reason,
      lines,
      periodStart,
      periodEnd,
      defaultPaymentMethod: idOf(sub.default_payment_method),
      hostedInvoiceUrl: `${ctx.baseUrl}/invoice/${id}`,
      now: periodStart,
    });
    this.state.invoices[id] = invoice;
    for (const ended of adjustInvoice(this.state, invoice, sub, periodStart)) {
      const discount = this.state.discounts[ended];
      if (discount) this.emit("customer.discount.deleted", discount, ctx, periodStart);
    }
    return invoice;
  }

  /** created -> finalized -> paid + payment_succeeded, or payment_failed; returns whether it was paid. */
  private runInvoice(
    invoice: Stripe.Invoice,
    sub: Stripe.Subscription,
    customer: Stripe.Customer,
    at: number,
    ctx: RequestContext,
    options: { retries: boolean; attempt: boolean },
  ): boolean {
    this.emit("invoice.created", invoice, ctx, at);
    // A credit from an earlier downgrade (negative balance) pays part of this invoice; a negative total becomes credit.
    invoice.starting_balance = customer.balance;
    let due = invoice.total;
    let balance = customer.balance;
    if (due < 0) {
      balance += due;
      due = 0;
    } else if (balance < 0) {
      const applied = Math.min(due, -balance);
      due -= applied;
      balance += applied;
    }
    invoice.amount_due = due;
    invoice.amount_remaining = due;
    invoice.ending_balance = balance;
    customer.balance = balance;
    invoice.status = "open";
    invoice.number = `${customer.invoice_prefix}-${String(customer.next_invoice_sequence ?? 1).padStart(4, "0")}`;
    customer.next_invoice_sequence = (customer.next_invoice_sequence ?? 1) + 1;
    invoice.hosted_invoice_url = `${ctx.baseUrl}/invoice/${invoice.id}`;
    invoice.effective_at = at;
    invoice.status_transitions.finalized_at = at;
    this.emit("invoice.finalized", invoice, ctx, at);
    if (!options.attempt) return false;
    return this.attemptPayment(invoice, sub, customer, at, ctx, options.retries);
  }

  private attemptPayment(
    invoice: Stripe.Invoice,
    sub: Stripe.Subscription,
    customer: Stripe.Customer,
    at: number,
    ctx: RequestContext,
    retries: boolean,
  ): boolean {
    const pmId = this.chargeablePaymentMethod(sub, customer);
    const ok = invoice.amount_due === 0 || this.canCharge(pmId);
    if (invoice.amount_due > 0) {
      invoice.attempted = true;
      invoice.attempt_count += 1;
    }
    if (ok) {
      const charge = invoice.amount_due > 0 ? this.recordCharge(invoice, pmId, at) : null;
      invoice.status = "paid";
      invoice.amount_paid = invoice.amount_due;
      invoice.amount_remaining = 0;
      invoice.next_payment_attempt = null;
      invoice.status_transitions.paid_at = at;
      invoice.webhooks_delivered_at = at;
      this.emit("invoice.paid", invoice, ctx, at);
      this.emit("invoice.payment_succeeded", invoice, ctx, at);
      if (charge) this.disputeIfDisputingCard(charge, ctx, at);
      return true;
    }
    const gap = RETRY_GAPS_DAYS[invoice.attempt_count - 1];
    invoice.next_payment_attempt = retries && gap !== undefined ? at + gap * DAY : null;
    this.emit("invoice.payment_failed", invoice, ctx, at);
    return false;
  }

  /** The card charge and invoice payment behind a paid invoice (no events: the sandbox sends the invoice's ones). */
  private recordCharge(invoice: Stripe.Invoice, pmId: string | null, at: number): Stripe.Charge {
    const charge = chargeObject({
      amount: invoice.amount_due,
      currency: invoice.currency,
      customer: String(invoice.customer),
      paymentMethod: pmId ? (this.state.paymentMethods[pmId] ?? null) : null,
      description: invoice.billing_reason === "subscription_create" ? "Subscription creation" : "Subscription update",
      now: at,
    });
    this.state.charges[charge.id] = charge;
    const payment = invoicePaymentObject({ invoice: invoice.id, charge: charge.id, amount: invoice.amount_due, currency: invoice.currency, now: at });
    this.state.invoicePayments[payment.id] = payment;
    return charge;
  }

  /** A charge on the dispute test card (0259) is disputed right after it is paid, as Stripe does in test mode. */
  private disputeIfDisputingCard(charge: Stripe.Charge, ctx: RequestContext, at: number): void {
    const pmId = idOf(charge.payment_method);
    if (pmId && this.state.disputingCards?.[pmId]) this.disputeCharge(charge, ctx, at);
  }

  /**
   * The cardholder disputes a charge: `charge.dispute.created`, then `charge.updated` (`disputed: true`). Made by the
   * dispute card, and by the `/_sandbox/charges/:id/dispute` control for a dispute that comes later.
   */
  disputeCharge(charge: Stripe.Charge, ctx: RequestContext, at = this.chargeTime(charge)): Stripe.Dispute {
    if (charge.disputed) throw invalidRequest(`Charge ${charge.id} is already disputed.`);
    if (charge.amount_refunded >= charge.amount) throw invalidRequest(`Charge ${charge.id} has been refunded in full; there is nothing to dispute.`);
    const pmId = idOf(charge.payment_method);
    const brand = (pmId ? this.state.paymentMethods[pmId]?.card?.brand : undefined) ?? "visa";
    const dispute = disputeObject({ charge, brand, now: at });
    (this.state.disputes ??= {})[dispute.id] = dispute;
    const before = clone(charge);
    charge.disputed = true;
    this.emit("charge.dispute.created", dispute, ctx, at);
    this.emit("charge.updated", charge, ctx, at, before);
    return dispute;
  }

  /** Now for a charge's customer (their test clock's time), else real time. */
  private chargeTime(charge: Stripe.Charge): number {
    return typeof charge.customer === "string" && this.state.customers[charge.customer] ? this.nowForCustomer(charge.customer) : realNow();
  }

  /** `POST /v1/disputes/:id/close`: the merchant accepts the dispute, which is then lost; `charge.dispute.closed`. */
  closeDispute(dispute: Stripe.Dispute, ctx: RequestContext): Stripe.Dispute {
    if (dispute.status === "won" || dispute.status === "lost") {
      throw invalidRequest(`This dispute is already closed (status: ${dispute.status}).`);
    }
    const charge = this.state.charges[String(dispute.charge)];
    const at = charge ? this.chargeTime(charge) : realNow();
    const before = clone(dispute);
    dispute.status = "lost";
    this.emit("charge.dispute.closed", dispute, ctx, at, before);
    return dispute;
  }

  /** `POST /v1/refunds`: returns (part of) a charge; `refund.created` and `charge.refunded` follow, as on Stripe. */
  refundCharge(
    charge: Stripe.Charge,
    input: { amount: number | null; reason: Stripe.Refund.Reason | null; metadata: Record<string, string> },
    ctx: RequestContext,
  ): Stripe.Refund {
    const dispute = charge.disputed ? Object.values(this.state.disputes ?? {}).find((d) => d.charge === charge.id) : undefined;
    if (dispute && !dispute.is_charge_refundable) {
      throw new StripeApiError(400, "invalid_request_error", "charge_disputed", `Charge ${charge.id} has been charged back; cannot issue a refund.`, null);
    }
    const left = charge.amount - charge.amount_refunded;
    if (left <= 0) throw new StripeApiError(400, "invalid_request_error", "charge_already_refunded", `Charge ${charge.id} has already been refunded.`, null);
    const amount = input.amount ?? left;
    if (amount <= 0) throw invalidRequest("Invalid positive integer", "amount");
    if (amount > left) {
      throw invalidRequest(`Refund amount ($${(amount / 100).toFixed(2)}) is greater than unrefunded amount on charge ($${(left / 100).toFixed(2)})`, "amount");
    }
    const at = this.chargeTime(charge);
    const refund = refundObject({ charge, amount, reason: input.reason, metadata: input.metadata, now: at });
    this.state.refunds[refund.id] = refund;
    const before = clone(charge);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    this.emit("refund.created", refund, ctx, at);
    this.emit("charge.refunded", charge, ctx, at, before);
    return refund;
  }

  /** `POST /v1/invoices/:id/pay`, a portal card update, or a scheduled retry. */
  payInvoice(invoice: Stripe.Invoice, ctx: RequestContext, at?: number): Stripe.Invoice {
    if (invoice.status === "paid") throw invalidRequest("Invoice is already paid.");
    if (invoice.status !== "open") throw invalidRequest(`You can only pay an invoice that is open (it is ${invoice.status}).`);
    const subId = invoice.parent?.subscription_details?.subscription;
    const sub = subId ? this.state.subscriptions[idOf(subId) ?? ""] : undefined;
    if (!sub) throw invalidRequest("This invoice has no subscription.");
    const customer = this.requireCustomer(String(invoice.customer), "customer");
    const when = at ?? this.nowForCustomer(customer.id);
    const retries = invoice.billing_reason !== "subscription_create";
    const paid = this.attemptPayment(invoice, sub, customer, when, ctx, retries);
    if (paid && (sub.status === "past_due" || sub.status === "incomplete" || sub.status === "unpaid")) {
      this.setStatus(sub, "active", when, ctx);
    }
    return invoice;
  }

  // ---- the passage of time ---------------------------------------------------------------------------------

  private nextAction(sub: Stripe.Subscription):
    | { at: number; kind: "cancel" | "renew" | "expire" | "trial_will_end" }
    | { at: number; kind: "retry"; invoice: Stripe.Invoice }
    | null {
    if (sub.status === "canceled" || sub.status === "incomplete_expired") return null;
    const item = sub.items.data[0];
    if (!item) return null;
    const candidates: Array<{ at: number; kind: "cancel" | "renew" | "expire" | "trial_will_end" } | { at: number; kind: "retry"; invoice: Stripe.Invoice }> = [];
    // Stripe's notice three days before a trial ends (at once for a shorter trial).
    if (sub.status === "trialing" && sub.trial_end !== null && !this.state.trialWillEndSent?.[sub.id]) {
      candidates.push({ at: Math.max(sub.trial_start ?? sub.created, sub.trial_end - 3 * DAY), kind: "trial_will_end" });
    }
    if (sub.cancel_at !== null) candidates.push({ at: sub.cancel_at, kind: "cancel" });
    if (sub.status === "incomplete") candidates.push({ at: sub.created + INCOMPLETE_WINDOW, kind: "expire" });
    else candidates.push({ at: item.current_period_end, kind: "renew" });
    for (const invoice of Object.values(this.state.invoices)) {
      if (invoice.status !== "open" || invoice.next_payment_attempt === null) continue;
      if (idOf(invoice.parent?.subscription_details?.subscription ?? null) !== sub.id) continue;
      candidates.push({ at: invoice.next_payment_attempt, kind: "retry", invoice });
    }
    // Ties go to the cancellation: a subscription that ends at its period end is not renewed first.
    const order = { cancel: 0, expire: 1, retry: 2, trial_will_end: 3, renew: 4 } as const;
    candidates.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind]);
    return candidates[0] ?? null;
  }

  /** Runs every due renewal, retry, expiry and cancellation up to `target`, in time order across subscriptions. */
  runUntil(target: number, include: (sub: Stripe.Subscription) => boolean, setTime?: (at: number) => void): void {
    const ctx = AUTOMATIC(this.baseUrl);
    for (let guard = 0; guard < 10_000; guard++) {
      let best: { sub: Stripe.Subscription; action: NonNullable<ReturnType<Engine["nextAction"]>> } | null = null;
      for (const sub of Object.values(this.state.subscriptions)) {
        if (!include(sub)) continue;
        const action = this.nextAction(sub);
        if (action && action.at <= target && (!best || action.at < best.action.at)) best = { sub, action };
      }
      if (!best) return;
      const { sub, action } = best;
      setTime?.(action.at);
      switch (action.kind) {
        case "cancel":
          this.endWithFinalInvoice(sub, action.at, ctx);
          break;
        case "expire": {
          const latest = this.state.invoices[idOf(sub.latest_invoice) ?? ""];
          this.setStatus(sub, "incomplete_expired", action.at, ctx);
          if (latest && latest.status === "open") {
            latest.status = "void";
            latest.status_transitions.voided_at = action.at;
            this.emit("invoice.voided", latest, ctx, action.at);
          }
          break;
        }
        case "retry": {
          this.payInvoice(action.invoice, ctx, action.at);
          const stillOpen = this.state.invoices[action.invoice.id]?.status === "open";
          if (stillOpen && action.invoice.next_payment_attempt === null) {
            // Stripe's default once every retry failed: cancel the subscription.
            this.endSubscription(sub, action.at, ctx, "payment_failed");
          }
          break;
        }
        case "renew":
          this.renew(sub, action.at, ctx);
          break;
        case "trial_will_end":
          (this.state.trialWillEndSent ??= {})[sub.id] = true;
          this.emit("customer.subscription.trial_will_end", sub, ctx, action.at);
          break;
        default:
          return;
      }
    }
  }

  private renew(sub: Stripe.Subscription, at: number, ctx: RequestContext): void {
    const item = sub.items.data[0];
    if (!item?.price.recurring) return;
    const customer = this.state.customers[String(sub.customer)];
    if (!customer) return;
    const before = clone(sub);
    const previousInterval = item.price.recurring;
    this.enterSchedulePhase(sub, item, at, ctx);
    const recurring = item.price.recurring;
    if (!recurring) return;
    if (recurring.interval !== previousInterval.interval || recurring.interval_count !== previousInterval.interval_count) {
      // A scheduled change to another interval starts a new cycle at this renewal.
      sub.billing_cycle_anchor = item.current_period_end;
      this.state.cycles[sub.id] = 0;
    }
    const cycle = (this.state.cycles[sub.id] ?? 1) + 1;
    this.state.cycles[sub.id] = cycle;
    item.current_period_start = item.current_period_end;
    item.current_period_end = addInterval(sub.billing_cycle_anchor, recurring.interval, recurring.interval_count * cycle);
    // The trial ends: the subscription is active from now, and past due if the first charge fails (below).
    if (sub.status === "trialing") sub.status = "active";
    const usageLines = this.advanceMeteredItems(sub, item);
    const invoice = this.draftInvoice(sub, customer, "subscription_cycle", [this.fullPeriodLine(sub, item, item.current_period_start, item.current_period_end), ...usageLines], item.current_period_start, item.current_period_end, ctx);
    // An invoice's own period is the one just ended; the line items carry the new service period.
    invoice.period_start = before.items.data[0]?.current_period_start ?? at;
    invoice.period_end = at;
    invoice.created = at;
    sub.latest_invoice = invoice.id;
    this.emit("customer.subscription.updated", sub, ctx, at, before);
    const paid = this.runInvoice(invoice, sub, customer, at, ctx, { retries: true, attempt: true });
    if (!paid && sub.status === "active") this.setStatus(sub, "past_due", at, ctx);
  }

  /** Metered items bill the period that just ended, in arrears, then move on to the licensed item's new period. */
  private advanceMeteredItems(sub: Stripe.Subscription, licensed: Stripe.SubscriptionItem): LineInput[] {
    return sub.items.data
      .filter((i) => i !== licensed && isMetered(i.price))
      .map((i) => {
        const line = meteredLine(this.state, i, String(sub.customer), this.productName(i.price), { start: i.current_period_start, end: i.current_period_end });
        i.current_period_start = licensed.current_period_start;
        i.current_period_end = licensed.current_period_end;
        return line;
      });
  }

  baseUrl = `http://127.0.0.1:${STRIPE_SANDBOX_DEFAULT_PORT}`;

  // ---- checkout --------------------------------------------------------------------------------------------

  /** A payment-mode session's PaymentIntent, paid at once by its card charge (the card was checked already). */
  private payOnce(session: Stripe.Checkout.Session, customer: Stripe.Customer, pm: Stripe.PaymentMethod, ctx: RequestContext): Stripe.PaymentIntent {
    const at = this.nowForCustomer(customer.id);
    const data = this.state.checkoutSetup[session.id]?.paymentIntentData;
    const amount = session.amount_total ?? 0;
    const currency = session.currency ?? "usd";
    const intent = paymentIntentObject({
      amount,
      currency,
      customer: customer.id,
      paymentMethod: pm.id,
      description: data?.description ?? null,
      metadata: data?.metadata ?? {},
      now: at,
    });
    const charge = chargeObject({ amount, currency, customer: customer.id, paymentMethod: pm, description: intent.description, now: at, paymentIntent: intent.id });
    intent.latest_charge = charge.id;
    this.state.paymentIntents[intent.id] = intent;
    this.state.charges[charge.id] = charge;
    this.emit("charge.succeeded", charge, ctx, at);
    this.emit("payment_intent.succeeded", intent, ctx, at);
    return intent;
  }

  createCheckoutSession(
    input: Omit<Parameters<typeof checkoutSessionObject>[0], "id" | "url" | "now">,
    setup: CheckoutSetup,
    ctx: RequestContext,
  ): Stripe.Checkout.Session {
    const id = `cs_test_${newIdBody(58)}`;
    const at = input.customer ? this.nowForCustomer(input.customer) : realNow();
    const session = checkoutSessionObject({ ...input, id, url: `${ctx.baseUrl}/checkout/${id}`, now: at });
    this.state.checkoutSessions[id] = session;
    this.state.checkoutSetup[id] = setup;
    return session;
  }

  requireOpenSession(id: string): Stripe.Checkout.Session {
    const session = this.state.checkoutSessions[id];
    if (!session) throw resourceMissing("checkout.session", id);
    this.expireIfDue(session);
    if (session.status !== "open") {
      throw invalidRequest(`This Checkout Session is no longer open (status: ${session.status}).`);
    }
    return session;
  }

  expireIfDue(session: Stripe.Checkout.Session): void {
    if (session.status === "open" && realNow() >= session.expires_at) this.expireSession(session, AUTOMATIC(this.baseUrl));
  }

  expireSession(session: Stripe.Checkout.Session, ctx: RequestContext): Stripe.Checkout.Session {
    if (session.status !== "open") throw invalidRequest("Only Checkout Sessions with a status of open can be expired.");
    session.status = "expired";
    this.emit("checkout.session.expired", session, ctx, realNow());
    return session;
  }

  /**
   * Pays a Checkout Session: a declined card throws 402 before anything is created. Then, in Stripe's order:
   * customer.created or customer.updated (address), then in subscription mode customer.subscription.created and
   * invoice.*, in payment mode the PaymentIntent's charge.succeeded and payment_intent.succeeded; last
   * checkout.session.completed.
   */
  completeCheckout(session: Stripe.Checkout.Session, input: CheckoutCompletion, ctx: RequestContext): Stripe.Checkout.Session {
    const card = readCard(input.card, input.expiry);
    if (card.declineCode) throw cardDeclined(card.declineCode);
    const setup = this.state.checkoutSetup[session.id];
    const prices = (setup?.lines ?? []).map((l) => this.requirePrice(l.price, "line_items"));
    const line = setup?.lines.find((_, i) => prices[i] && !isMetered(prices[i]));
    if (!line) throw invalidRequest("This Checkout Session has no line items.");
    const price = this.requirePrice(line.price, "line_items[0][price]");
    const address = toAddress(input.address);
    if (session.billing_address_collection === "required" && (!address?.line1 || !address.city || !address.postal_code || !address.country)) {
      throw invalidRequest("A billing address is required.", "address");
    }
    if (session.automatic_tax.enabled && (!address?.line1 || !address.postal_code || !address.country)) {
      throw invalidRequest("A billing address is required to calculate tax.", "address");
    }
    const at0 = session.customer ? this.nowForCustomer(idOf(session.customer) ?? "") : realNow();
    const redemption = checkoutRedemption(this.state, session, setup, input.promotionCode, { now: at0, amount: (price.unit_amount ?? 0) * line.quantity, currency: price.currency });
    const email = input.email || session.customer_details?.email || session.customer_email || null;
    const name = input.name || null;
    let customer: Stripe.Customer;
    if (session.customer) {
      customer = this.requireCustomer(idOf(session.customer) ?? "", "customer");
      const saveName = setup?.customerUpdate.name === "auto" || customer.name === null;
      this.updateCustomer(
        customer,
        (c) => {
          if (address) c.address = address;
          if (name && saveName) c.name = name;
          if (!c.email && email) c.email = email;
        },
        ctx,
      );
    } else {
      customer = this.createCustomer(
        { email, name, description: null, phone: null, address, metadata: {}, paymentMethod: null, testClock: null },
        ctx,
      );
    }
    const pm = this.createCardPaymentMethod(card, customer, { email, name, address });
    if (session.mode === "payment") {
      const intent = this.payOnce(session, customer, pm, ctx);
      session.payment_intent = intent.id;
    } else {
      const sub = this.createSubscription(
        {
          customer,
          price,
          quantity: line.quantity,
          paymentMethod: pm.id,
          metadata: { ...(setup?.subscriptionMetadata ?? {}) },
          description: setup?.subscriptionDescription ?? null,
          paymentBehavior: "error_if_incomplete",
          cancelAt: null,
          cancelAtPeriodEnd: false,
          redemption,
          automaticTax: session.automatic_tax.enabled,
          checkoutSession: session.id,
          trialPeriodDays: setup?.trialPeriodDays ?? null,
          meteredPrices: prices.filter(isMetered),
        },
        ctx,
      );
      settleCheckoutTotals(session, this.state.invoices[idOf(sub.latest_invoice) ?? ""], redemption);
      session.subscription = sub.id;
      session.invoice = idOf(sub.latest_invoice);
    }
    const at = this.nowForCustomer(customer.id);
    session.status = "complete";
    session.payment_status = "paid";
    session.customer = customer.id;
    session.customer_details = {
      address,
      business_name: null,
      email,
      individual_name: null,
      name,
      phone: null,
      tax_exempt: "none",
      tax_ids: [],
    };
    session.collected_information = { business_name: null, individual_name: null, shipping_details: null };
    this.emit("checkout.session.completed", session, ctx, at);
    const paid = session.mode === "payment" ? this.state.charges[String(this.state.paymentIntents[String(session.payment_intent)]?.latest_charge)] : undefined;
    if (paid) this.disputeIfDisputingCard(paid, ctx, at);
    return session;
  }
}

function newIdBody(length: number): string {
  return newId("x", length).slice(2);
}

/** A price's billing interval in days, to compare intervals (a month as 30 days). */
function intervalDays(price: Stripe.Price): number {
  const recurring = price.recurring;
  if (!recurring) return 0;
  const perInterval: Record<string, number> = { day: 1, week: 7, month: 30, year: 365 };
  const days = perInterval[recurring.interval] ?? 30;
  return days * recurring.interval_count;
}

function planOf(price: Stripe.Price): Partial<Stripe.Plan> {
  return {
    id: price.id,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    interval: price.recurring?.interval ?? "month",
    interval_count: price.recurring?.interval_count ?? 1,
    nickname: price.nickname,
    product: price.product,
    metadata: price.metadata,
  };
}

export function formatAmount(amount: number, currency: string): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);
}

export function formatDate(unix: number): string {
  return new Date(unix * 1000).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

export { StripeApiError };

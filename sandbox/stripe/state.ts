// Everything the sandbox knows, as plain JSON so it can be written to `.data/` and read back on the next start.
// Stripe objects are stored in their wire shape; the few facts Stripe keeps privately (which card declines, how many
// billing cycles a subscription has run, delivery attempts, idempotency results) sit beside them.
import { randomBytes } from "node:crypto";
import type Stripe from "stripe";

export const API_VERSION = "2026-10-28.endive";

export interface StoredEndpoint {
  endpoint: Stripe.WebhookEndpoint;
  secret: string;
}

export interface DeliveryRecord {
  endpoint: string;
  url: string;
  attempts: number;
  state: "pending" | "succeeded" | "failed";
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
}

export interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  body: string;
}

export interface CheckoutSetup {
  lines: Array<{ price: string; quantity: number }>;
  /** `subscription_data` from the session create, applied to the subscription the session creates */
  subscriptionMetadata: Record<string, string>;
  subscriptionDescription: string | null;
  /** `subscription_data[trial_period_days]`: the subscription starts trialing for that many days */
  trialPeriodDays?: number | null;
  /** `customer_update` from the session create: whether the collected name/address overwrite the customer's */
  customerUpdate: { name: string | null; address: string | null };
  /** A coupon or promotion code from `discounts[0]` at create, or the promotion code typed on the hosted page */
  redemption?: Redemption | null;
  /** `payment_intent_data` of a payment-mode session, given to the PaymentIntent paying it */
  paymentIntentData?: { metadata: Record<string, string>; description: string | null };
}

/** A coupon to redeem into a discount, by way of a promotion code or not. */
export interface Redemption {
  coupon: string;
  promotionCode: string | null;
}

export interface SandboxState {
  version: 1;
  products: Record<string, Stripe.Product>;
  prices: Record<string, Stripe.Price>;
  customers: Record<string, Stripe.Customer>;
  paymentMethods: Record<string, Stripe.PaymentMethod>;
  checkoutSessions: Record<string, Stripe.Checkout.Session>;
  checkoutSetup: Record<string, CheckoutSetup>;
  portalConfigurations: Record<string, Stripe.BillingPortal.Configuration>;
  portalSessions: Record<string, Stripe.BillingPortal.Session>;
  subscriptions: Record<string, Stripe.Subscription>;
  /** Schedules of subscription changes (the portal's downgrades at the period end) */
  subscriptionSchedules: Record<string, Stripe.SubscriptionSchedule>;
  invoices: Record<string, Stripe.Invoice>;
  /** Card charges (of paid invoices and of PaymentIntents), invoice payments and refunds */
  charges: Record<string, Stripe.Charge>;
  invoicePayments: Record<string, Stripe.InvoicePayment>;
  refunds: Record<string, Stripe.Refund>;
  /** PaymentIntents of payment-mode Checkout Sessions (each with its one charge) */
  paymentIntents: Record<string, Stripe.PaymentIntent>;
  /** Coupons by id, promotion codes by id, and the discounts redeemed from them (on subscriptions) */
  coupons: Record<string, Stripe.Coupon>;
  promotionCodes: Record<string, Stripe.PromotionCode>;
  discounts: Record<string, Stripe.Discount>;
  events: Record<string, Stripe.EventBase>;
  webhookEndpoints: Record<string, StoredEndpoint>;
  testClocks: Record<string, Stripe.TestHelpers.TestClock>;
  /** payment method id -> Stripe decline code for cards that fail every charge */
  declineCodes: Record<string, string>;
  /** payment method id -> decline code for cards refused as soon as they are attached (0002, not 0341) */
  attachDeclines: Record<string, string>;
  /** payment method id -> true for cards whose charges are disputed once made (0259); absent in older state files */
  disputingCards?: Record<string, true>;
  /** Disputes by id (absent in older state files) */
  disputes?: Record<string, Stripe.Dispute>;
  /** subscription id -> number of billing periods since the anchor, so renewals stay on the anchor day */
  cycles: Record<string, number>;
  /** subscription id -> true once `customer.subscription.trial_will_end` was sent (absent in older state files) */
  trialWillEndSent?: Record<string, true>;
  /** event id -> one record per endpoint (and per duplicate copy when the duplicate fault is on) */
  deliveries: Record<string, DeliveryRecord[]>;
  idempotency: Record<string, IdempotencyRecord>;
  /** Billing meters by id, and the meter events they aggregate (absent in older state files) */
  meters?: Record<string, Stripe.Billing.Meter>;
  meterEvents?: StoredMeterEvent[];
}

/** A meter event as sent, with what Stripe keeps beside it: the customer and value read from its payload. */
export interface StoredMeterEvent {
  event: Stripe.Billing.MeterEvent;
  meter: string;
  customer: string;
  value: number;
}

export function emptyState(): SandboxState {
  return {
    version: 1,
    products: {},
    prices: {},
    customers: {},
    paymentMethods: {},
    checkoutSessions: {},
    checkoutSetup: {},
    portalConfigurations: {},
    portalSessions: {},
    subscriptions: {},
    subscriptionSchedules: {},
    invoices: {},
    charges: {},
    invoicePayments: {},
    refunds: {},
    paymentIntents: {},
    coupons: {},
    promotionCodes: {},
    discounts: {},
    events: {},
    webhookEndpoints: {},
    testClocks: {},
    declineCodes: {},
    attachDeclines: {},
    disputingCards: {},
    disputes: {},
    cycles: {},
    deliveries: {},
    idempotency: {},
    meters: {},
    meterEvents: [],
  };
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomToken(length)}`;
}

export function realNow(): number {
  return Math.floor(Date.now() / 1000);
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// Builders for Stripe objects in their 2026-10-28.endive shape: every top-level field Stripe's own fixtures carry,
// checked against the `stripe` package's types. Defaults are what a test-mode account without extra settings returns.
import type Stripe from "stripe";
import { newId, randomToken } from "./state";

/**
 * Stripe sends decimal fields as JSON strings; the package types them as its branded Decimal. This is the one place the
 * sandbox states that a string it wrote is such a wire decimal.
 */
export function wireDecimal(value: string): Stripe.Decimal {
  return value as unknown as Stripe.Decimal;
}

const emptyAddress = (): Stripe.Address => ({
  city: null,
  country: null,
  line1: null,
  line2: null,
  postal_code: null,
  state: null,
});

export interface AddressInput {
  line1?: string | undefined;
  line2?: string | undefined;
  city?: string | undefined;
  postal_code?: string | undefined;
  state?: string | undefined;
  country?: string | undefined;
}

export function toAddress(input: AddressInput | undefined): Stripe.Address | null {
  if (!input) return null;
  return { ...emptyAddress(), ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== "")) };
}

export function productObject(input: {
  id?: string | undefined;
  name: string;
  description?: string | undefined;
  active?: boolean | undefined;
  metadata: Record<string, string>;
  now: number;
}): Stripe.Product {
  return {
    id: input.id ?? newId("prod", 14),
    object: "product",
    active: input.active ?? true,
    created: input.now,
    default_price: null,
    description: input.description ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: input.metadata,
    name: input.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: "service",
    unit_label: null,
    updated: input.now,
    url: null,
  } satisfies Stripe.Product;
}

export function priceObject(input: {
  product: string;
  unitAmount: number;
  currency: string;
  interval: Stripe.Price.Recurring.Interval | null;
  intervalCount: number;
  lookupKey: string | null;
  nickname: string | null;
  active: boolean;
  metadata: Record<string, string>;
  taxBehavior: Stripe.Price.TaxBehavior | null;
  /** A metered price bills the usage its meter aggregated over each period, in arrears (null: licensed) */
  meter?: string | null;
  transformQuantity?: Stripe.Price.TransformQuantity | null;
  now: number;
}): Stripe.Price {
  return {
    id: newId("price", 24),
    object: "price",
    active: input.active,
    billing_scheme: "per_unit",
    created: input.now,
    currency: input.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: input.lookupKey,
    metadata: input.metadata,
    nickname: input.nickname,
    product: input.product,
    recurring: input.interval
      ? { interval: input.interval, interval_count: input.intervalCount, meter: input.meter ?? null, usage_type: input.meter ? "metered" : "licensed", trial_period_days: null }
      : null,
    tax_behavior: input.taxBehavior ?? "unspecified",
    tiers_mode: null,
    transform_quantity: input.transformQuantity ?? null,
    type: input.interval ? "recurring" : "one_time",
    unit_amount: input.unitAmount,
    unit_amount_decimal: wireDecimal(String(input.unitAmount)),
  } satisfies Stripe.Price;
}

export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? "month",
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: price.recurring?.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: price.transform_quantity,
    trial_period_days: null,
    usage_type: price.recurring?.usage_type ?? "licensed",
  } satisfies Stripe.Plan;
}

export function meterObject(input: {
  displayName: string;
  eventName: string;
  formula: Stripe.Billing.Meter.DefaultAggregation.Formula;
  customerPayloadKey: string;
  valuePayloadKey: string;
  eventTimeWindow: Stripe.Billing.Meter.EventTimeWindow | null;
  now: number;
}): Stripe.Billing.Meter {
  return {
    id: newId("mtr_test", 32),
    object: "billing.meter",
    created: input.now,
    customer_mapping: { event_payload_key: input.customerPayloadKey, type: "by_id" },
    default_aggregation: { formula: input.formula },
    display_name: input.displayName,
    event_name: input.eventName,
    event_time_window: input.eventTimeWindow,
    livemode: false,
    status: "active",
    status_transitions: { deactivated_at: null },
    updated: input.now,
    value_settings: { event_payload_key: input.valuePayloadKey },
  } satisfies Stripe.Billing.Meter;
}

export function meterEventObject(input: {
  eventName: string;
  identifier: string;
  payload: Record<string, string>;
  timestamp: number;
  now: number;
}): Stripe.Billing.MeterEvent {
  return {
    object: "billing.meter_event",
    created: input.now,
    event_name: input.eventName,
    identifier: input.identifier,
    livemode: false,
    payload: input.payload,
    timestamp: input.timestamp,
  } satisfies Stripe.Billing.MeterEvent;
}

export function customerObject(input: {
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  address: Stripe.Address | null;
  metadata: Record<string, string>;
  defaultPaymentMethod: string | null;
  testClock: string | null;
  now: number;
}): Stripe.Customer {
  return {
    id: newId("cus", 14),
    object: "customer",
    address: input.address,
    balance: 0,
    created: input.now,
    currency: null,
    default_source: null,
    delinquent: false,
    description: input.description,
    discount: null,
    email: input.email,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: input.defaultPaymentMethod,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: input.metadata,
    name: input.name,
    next_invoice_sequence: 1,
    phone: input.phone,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: input.testClock,
  } satisfies Stripe.Customer;
}

export interface TestCard {
  brand: string;
  last4: string;
  /** Stripe's decline code when every charge on this card fails, else null */
  declineCode: string | null;
  /** Whether attaching the card to a customer is already declined (0002), or only its charges fail (0341). */
  declinesOnAttach: boolean;
  /** Whether every charge on this card is disputed as fraudulent once made (0259). */
  disputesCharges: boolean;
  expMonth: number;
  expYear: number;
}

export function paymentMethodObject(input: {
  card: TestCard;
  customer: string | null;
  billing: { email: string | null; name: string | null; address: Stripe.Address | null };
  now: number;
}): Stripe.PaymentMethod {
  return {
    id: newId("pm", 24),
    object: "payment_method",
    allow_redisplay: "unspecified",
    billing_details: {
      address: input.billing.address ?? emptyAddress(),
      email: input.billing.email,
      name: input.billing.name,
      phone: null,
      tax_id: null,
    },
    card: {
      brand: input.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
      country: "US",
      display_brand: input.card.brand,
      exp_month: input.card.expMonth,
      exp_year: input.card.expYear,
      fingerprint: randomToken(16),
      funding: "credit",
      generated_from: null,
      last4: input.card.last4,
      networks: { available: [input.card.brand], preferred: null },
      regulated_status: "unregulated",
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: input.now,
    customer: input.customer,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: "card",
  } satisfies Stripe.PaymentMethod;
}

export function testClockObject(input: { frozenTime: number; name: string | null; now: number }): Stripe.TestHelpers.TestClock {
  return {
    id: newId("clock", 24),
    object: "test_helpers.test_clock",
    created: input.now,
    // Stripe removes test clocks 30 days after creation.
    deletes_after: input.now + 30 * 24 * 3600,
    frozen_time: input.frozenTime,
    livemode: false,
    name: input.name,
    status: "ready",
    status_details: {},
  } satisfies Stripe.TestHelpers.TestClock;
}

export function webhookEndpointObject(input: {
  url: string;
  enabledEvents: string[];
  description: string | null;
  apiVersion: string | null;
  metadata: Record<string, string>;
  now: number;
}): Stripe.WebhookEndpoint {
  return {
    id: newId("we", 24),
    object: "webhook_endpoint",
    api_version: input.apiVersion,
    application: null,
    created: input.now,
    description: input.description,
    enabled_events: input.enabledEvents,
    livemode: false,
    metadata: input.metadata,
    status: "enabled",
    url: input.url,
  } satisfies Stripe.WebhookEndpoint;
}

export function portalConfigurationObject(input: {
  headline: string | null;
  privacyPolicyUrl: string | null;
  termsOfServiceUrl: string | null;
  defaultReturnUrl: string | null;
  features: Stripe.BillingPortal.Configuration.Features;
  isDefault: boolean;
  name: string | null;
  metadata: Record<string, string> | null;
  now: number;
}): Stripe.BillingPortal.Configuration {
  return {
    id: newId("bpc", 24),
    object: "billing_portal.configuration",
    active: true,
    application: null,
    business_profile: {
      headline: input.headline,
      privacy_policy_url: input.privacyPolicyUrl,
      terms_of_service_url: input.termsOfServiceUrl,
    },
    created: input.now,
    default_return_url: input.defaultReturnUrl,
    features: input.features,
    is_default: input.isDefault,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: input.metadata,
    name: input.name,
    updated: input.now,
  } satisfies Stripe.BillingPortal.Configuration;
}

export function defaultPortalFeatures(): Stripe.BillingPortal.Configuration.Features {
  return {
    customer_update: { allowed_updates: [], enabled: false },
    invoice_history: { enabled: false },
    payment_method_update: { enabled: false, payment_method_configuration: null },
    subscription_cancel: {
      cancellation_reason: { enabled: false, options: [], feedback_options: null },
      enabled: false,
      mode: "at_period_end",
      proration_behavior: "none",
    },
    subscription_pause: {
      duration: { interval_options: [{ interval: "month", interval_count: 1 }], type: "interval_options" },
      enabled: false,
    },
    subscription_update: {
      billing_cycle_anchor: null,
      default_allowed_updates: [],
      enabled: false,
      products: [],
      proration_behavior: "none",
      schedule_at_period_end: { conditions: [] },
      trial_update_behavior: "end_trial",
    },
  } satisfies Stripe.BillingPortal.Configuration.Features;
}

export function portalSessionObject(input: {
  id: string;
  configuration: string;
  customer: string;
  returnUrl: string | null;
  url: string;
  locale: Stripe.BillingPortal.Session.Locale | null;
  flow?: Stripe.BillingPortal.Session.Flow | null;
  now: number;
}): Stripe.BillingPortal.Session {
  return {
    id: input.id,
    object: "billing_portal.session",
    configuration: input.configuration,
    created: input.now,
    customer: input.customer,
    customer_account: null,
    flow: input.flow ?? null,
    livemode: false,
    locale: input.locale,
    on_behalf_of: null,
    return_url: input.returnUrl,
    url: input.url,
  } satisfies Stripe.BillingPortal.Session;
}

export function subscriptionItemObject(input: {
  subscription: string;
  price: Stripe.Price;
  /** undefined for a metered price: its quantity is the usage its meter aggregates */
  quantity: number | undefined;
  periodStart: number;
  periodEnd: number;
  now: number;
}): Stripe.SubscriptionItem {
  return {
    id: newId("si", 14),
    object: "subscription_item",
    billing_thresholds: null,
    created: input.now,
    current_period_end: input.periodEnd,
    current_period_start: input.periodStart,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planFromPrice(input.price),
    price: input.price,
    ...(input.quantity === undefined ? {} : { quantity: input.quantity }),
    subscription: input.subscription,
    tax_rates: [],
  } satisfies Stripe.SubscriptionItem;
}

export function subscriptionObject(input: {
  id: string;
  customer: string;
  item: Stripe.SubscriptionItem;
  defaultPaymentMethod: string | null;
  metadata: Record<string, string>;
  description: string | null;
  status: Stripe.Subscription.Status;
  testClock: string | null;
  now: number;
}): Stripe.Subscription {
  return {
    id: input.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.now,
    billing_cycle_anchor_config: null,
    billing_mode: { type: "flexible", flexible: { proration_discounts: "included" }, updated_at: input.now },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: "charge_automatically",
    created: input.now,
    currency: input.item.price.currency,
    customer: input.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: input.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: input.description,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: "self" } },
    items: {
      object: "list",
      data: [input.item],
      has_more: false,
      url: `/v1/subscription_items?subscription=${input.id}`,
    },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: input.now,
    status: input.status,
    test_clock: input.testClock,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" } },
    trial_start: null,
  } satisfies Stripe.Subscription;
}

export interface LineInput {
  amount: number;
  description: string;
  price: Stripe.Price;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  proration: boolean;
  subscriptionItem: string;
}

export function invoiceLineObject(input: LineInput & { invoice: string; subscription: string }): Stripe.InvoiceLineItem {
  return {
    id: newId("il", 24),
    object: "line_item",
    amount: input.amount,
    currency: input.price.currency,
    description: input.description,
    discount_amounts: [],
    discountable: !input.proration,
    discounts: [],
    invoice: input.invoice,
    livemode: false,
    metadata: {},
    parent: {
      type: "subscription_item_details",
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: input.proration,
        proration_details: { credited_items: null },
        subscription: input.subscription,
        subscription_item: input.subscriptionItem,
      },
    },
    period: { start: input.periodStart, end: input.periodEnd },
    pretax_credit_amounts: [],
    pricing: {
      type: "price_details",
      price_details: { price: input.price.id, product: typeof input.price.product === "string" ? input.price.product : input.price.product.id },
      unit_amount_decimal: input.price.unit_amount_decimal,
    },
    quantity: input.quantity,
    quantity_decimal: wireDecimal(String(input.quantity)),
    subscription: input.subscription,
    subtotal: input.amount,
    taxes: [],
  } satisfies Stripe.InvoiceLineItem;
}

export function invoiceObject(input: {
  id: string;
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
  billingReason: Stripe.Invoice.BillingReason;
  lines: LineInput[];
  periodStart: number;
  periodEnd: number;
  defaultPaymentMethod: string | null;
  hostedInvoiceUrl: string;
  now: number;
}): Stripe.Invoice {
  const total = input.lines.reduce((sum, line) => sum + line.amount, 0);
  const invoice = {
    id: input.id,
    object: "invoice",
    account_country: "US",
    account_name: "Hourglass Sandbox",
    account_tax_ids: null,
    amount_due: Math.max(total, 0),
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: Math.max(total, 0),
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: "charge_automatically",
    confirmation_secret: null,
    created: input.now,
    currency: input.subscription.currency,
    custom_fields: null,
    customer: input.customer.id,
    customer_account: null,
    customer_address: input.customer.address ?? null,
    customer_email: input.customer.email ?? null,
    customer_name: input.customer.name ?? null,
    customer_phone: input.customer.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: "list",
      data: input.lines.map((line) =>
        invoiceLineObject({ ...line, invoice: input.id, subscription: input.subscription.id }),
      ),
      has_more: false,
      url: `/v1/invoices/${input.id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata: input.subscription.metadata, subscription: input.subscription.id },
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: "draft",
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: input.subscription.test_clock,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  } satisfies Stripe.Invoice;
  // No top-level `subscription`: the pinned API moved it to `parent.subscription_details.subscription` (Stripe's older
  // fixture still shows `subscription: null`; the contract test follows the types).
  return invoice;
}

export function checkoutSessionObject(input: {
  id: string;
  url: string;
  customer: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  billingAddressCollection: Stripe.Checkout.Session.BillingAddressCollection | null;
  allowPromotionCodes: boolean | null;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  successUrl: string | null;
  cancelUrl: string | null;
  locale: Stripe.Checkout.Session.Locale | null;
  mode: "payment" | "subscription";
  now: number;
}): Stripe.Checkout.Session {
  const payment = input.mode === "payment";
  return {
    id: input.id,
    object: "checkout.session",
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: input.allowPromotionCodes,
    allowed_payment_method_types: null,
    amount_subtotal: input.amount,
    amount_total: input.amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: input.billingAddressCollection,
    cancel_url: input.cancelUrl,
    client_reference_id: input.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: input.now,
    currency: input.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: input.customer,
    customer_account: null,
    customer_creation: input.customer ? null : payment ? "if_required" : "always",
    customer_details: input.customerEmail
      ? { address: null, business_name: null, email: input.customerEmail, individual_name: null, name: null, phone: null, tax_exempt: "none", tax_ids: null }
      : null,
    customer_email: input.customerEmail,
    discounts: [],
    expires_at: input.now + 24 * 3600,
    integration_identifier: null,
    invoice: null,
    // Payment mode can create an invoice after payment (off unless asked); subscription mode always invoices.
    invoice_creation: payment
      ? {
          enabled: false,
          invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null },
        }
      : null,
    livemode: false,
    locale: input.locale,
    managed_payments: null,
    metadata: input.metadata,
    mode: input.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: payment ? null : "always",
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_status: "unpaid",
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: input.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted_page",
    url: input.url,
    wallet_options: null,
  } satisfies Stripe.Checkout.Session;
}

/**
 * A card charge: of a paid invoice (made directly, without a payment intent) or of a payment-mode Checkout's
 * PaymentIntent (`paymentIntent`, whose metadata the charge does not copy, as on Stripe).
 */
export function chargeObject(input: {
  amount: number;
  currency: string;
  customer: string;
  paymentMethod: Stripe.PaymentMethod | null;
  description: string | null;
  now: number;
  paymentIntent?: string | null;
}): Stripe.Charge {
  const pm = input.paymentMethod;
  const id = newId("ch", 24);
  return {
    id,
    object: "charge",
    amount: input.amount,
    amount_captured: input.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: pm?.billing_details ?? { address: emptyAddress(), email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: "HOURGLASS",
    captured: true,
    created: input.now,
    currency: input.currency,
    customer: input.customer,
    description: input.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: input.paymentIntent ?? null,
    payment_method: pm?.id ?? null,
    payment_method_details: null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "succeeded",
    transfer_data: null,
    transfer_group: null,
  } satisfies Stripe.Charge;
}

/** One payment of an invoice (`GET /v1/invoice_payments`): here always a card charge. */
export function invoicePaymentObject(input: { invoice: string; charge: string; amount: number; currency: string; now: number }): Stripe.InvoicePayment {
  return {
    id: newId("inpay", 24),
    object: "invoice_payment",
    amount_paid: input.amount,
    amount_requested: input.amount,
    created: input.now,
    currency: input.currency,
    invoice: input.invoice,
    is_default: true,
    livemode: false,
    payment: { type: "charge", charge: input.charge },
    status: "paid",
    status_transitions: { canceled_at: null, paid_at: input.now },
  } satisfies Stripe.InvoicePayment;
}

export function refundObject(input: {
  charge: Stripe.Charge;
  amount: number;
  reason: Stripe.Refund.Reason | null;
  metadata: Record<string, string>;
  now: number;
}): Stripe.Refund {
  return {
    id: newId("re", 24),
    object: "refund",
    amount: input.amount,
    balance_transaction: null,
    charge: input.charge.id,
    created: input.now,
    currency: input.charge.currency,
    customer: typeof input.charge.customer === "string" ? input.charge.customer : (input.charge.customer?.id ?? null),
    customer_account: null,
    destination_details: { card: { reference_status: "pending", reference_type: "acquirer_reference_number", type: "refund" }, type: "card" },
    metadata: input.metadata,
    payment_intent: input.charge.payment_intent,
    payment_method: input.charge.payment_method,
    reason: input.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  } satisfies Stripe.Refund;
}

/**
 * A card dispute (a chargeback), as Stripe opens one on a charge made with its dispute test card (0259): the whole
 * amount, reason `fraudulent`, waiting for the merchant's response, evidence due in 7 days. Such a dispute cannot be
 * answered with a refund (`is_charge_refundable` false): the money has already gone back to the cardholder.
 */
export function disputeObject(input: { charge: Stripe.Charge; brand: string; now: number }): Stripe.Dispute {
  const evidenceFields = [
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure", "cancellation_rebuttal",
    "customer_communication", "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
    "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date", "service_documentation",
    "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
    "uncategorized_file", "uncategorized_text",
  ] as const;
  return {
    id: newId("dp", 24),
    object: "dispute",
    amount: input.charge.amount - input.charge.amount_refunded,
    balance_transactions: [],
    charge: input.charge.id,
    created: input.now,
    currency: input.charge.currency,
    enhanced_eligibility_types: [],
    evidence: { ...Object.fromEntries(evidenceFields.map((field) => [field, null])), enhanced_evidence: {} } as unknown as Stripe.Dispute.Evidence,
    evidence_details: {
      due_by: input.now + 7 * 86_400,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: "not_submitted",
    },
    intended_submission_method: null,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: input.charge.payment_intent,
    payment_method_details: { card: { brand: input.brand, case_type: "chargeback", network_reason_code: "10.4", network: input.brand }, type: "card" },
    reason: "fraudulent",
    status: "needs_response",
  } satisfies Stripe.Dispute;
}

/** The PaymentIntent a payment-mode Checkout Session pays: created succeeded, its charge made at once (card only). */
export function paymentIntentObject(input: {
  amount: number;
  currency: string;
  customer: string;
  paymentMethod: string;
  description: string | null;
  metadata: Record<string, string>;
  now: number;
}): Stripe.PaymentIntent {
  const id = newId("pi", 24);
  return {
    id,
    object: "payment_intent",
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: input.amount,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: "automatic",
    client_secret: `${id}_secret_${randomToken(24)}`,
    confirmation_method: "automatic",
    created: input.now,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: input.paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "succeeded",
    transfer_data: null,
    transfer_group: null,
  } satisfies Stripe.PaymentIntent;
}

// Subscription schedules in the pinned API version's shape, as far as the sandbox uses them: the customer portal's
// downgrade at the period end (`schedule_at_period_end`), which Stripe carries out with a schedule of two phases,
// the current price until the period end and the new price for the period after, released when that one ends.
import type Stripe from "stripe";
import { newId } from "./state";

export interface PhaseInput {
  price: Stripe.Price;
  quantity: number;
  start: number;
  end: number;
}

export function schedulePhase(input: PhaseInput): Stripe.SubscriptionSchedule.Phase {
  return {
    add_invoice_items: [],
    application_fee_percent: null,
    billing_cycle_anchor: null,
    billing_thresholds: null,
    collection_method: null,
    currency: input.price.currency,
    default_payment_method: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    end_date: input.end,
    invoice_settings: null,
    items: [
      {
        billing_thresholds: null,
        discounts: [],
        metadata: {},
        plan: input.price.id,
        price: input.price.id,
        quantity: input.quantity,
        tax_rates: [],
      },
    ],
    metadata: {},
    on_behalf_of: null,
    proration_behavior: "create_prorations",
    start_date: input.start,
    transfer_data: null,
    trial_end: null,
  };
}

export function subscriptionScheduleObject(input: {
  subscription: Stripe.Subscription;
  phases: Stripe.SubscriptionSchedule.Phase[];
  now: number;
}): Stripe.SubscriptionSchedule {
  const { subscription: sub } = input;
  const first = input.phases[0];
  return {
    id: newId("sub_sched", 24),
    object: "subscription_schedule",
    application: null,
    billing_mode: { type: "flexible", flexible: { proration_discounts: "included" }, updated_at: input.now },
    canceled_at: null,
    completed_at: null,
    created: input.now,
    current_phase: first ? { start_date: first.start_date, end_date: first.end_date } : null,
    customer: String(sub.customer),
    customer_account: null,
    default_settings: {
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: "automatic",
      billing_thresholds: null,
      collection_method: "charge_automatically",
      default_payment_method: null,
      description: null,
      invoice_settings: { account_tax_ids: null, custom_fields: null, days_until_due: null, description: null, footer: null, issuer: { type: "self" } },
      on_behalf_of: null,
      transfer_data: null,
    },
    end_behavior: "release",
    livemode: false,
    metadata: {},
    pause_schedules: [],
    phases: input.phases,
    released_at: null,
    released_subscription: null,
    status: "active",
    subscription: sub.id,
    test_clock: typeof sub.test_clock === "string" ? sub.test_clock : (sub.test_clock?.id ?? null),
  };
}

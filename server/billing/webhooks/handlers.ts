// Which Stripe events Hourglass acts on, as a typed map. Every handler finds the customer the event is about
// and re-syncs it from Stripe, so handlers never trust the payload's order or snapshot. Adding an event is a
// new row here.
import type Stripe from "stripe";
import type { CreditPackOutcome } from "../credit-packs";
import type { SyncResult } from "../sync-subscription";
import type { TestClockFollowed } from "../test-clocks";

export interface HandlerContext {
  /** Re-syncs one customer from Stripe, recording the event in the transaction that writes. */
  sync(customerId: string): Promise<SyncResult>;
  /** Test mode: moves the clock's customers to its time (see server/billing/test-clocks). */
  followTestClock(clock: Stripe.TestHelpers.TestClock): Promise<TestClockFollowed>;
  /** Grants (or, once refunded, revokes) the credit pack a payment-mode Checkout Session bought (credit-packs). */
  creditPackSession(sessionId: string): Promise<CreditPackOutcome>;
  /** The same for the pack a PaymentIntent paid for, found from a refunded or disputed charge. */
  creditPackPayment(paymentIntentId: string | null): Promise<CreditPackOutcome>;
}

export type HandlerOutcome = SyncResult | TestClockFollowed | CreditPackOutcome | { outcome: "no-customer" };

type EventOf<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>;
type Handler<T extends Stripe.Event.Type> = (event: EventOf<T>, ctx: HandlerContext) => Promise<HandlerOutcome>;

type Expandable = string | { id: string } | null | undefined;
const idOf = (value: Expandable) => (typeof value === "string" ? value : (value?.id ?? null));

const syncCustomerOf =
  <T extends Stripe.Event.Type>(customerOf: (event: EventOf<T>) => Expandable) =>
  async (event: EventOf<T>, ctx: HandlerContext): Promise<HandlerOutcome> => {
    const customerId = idOf(customerOf(event));
    return customerId ? ctx.sync(customerId) : { outcome: "no-customer" };
  };

const fromSubscription = syncCustomerOf<
  | "customer.subscription.created"
  | "customer.subscription.updated"
  | "customer.subscription.deleted"
  | "customer.subscription.trial_will_end"
>((event) => event.data.object.customer);

const fromInvoice = syncCustomerOf<"invoice.payment_succeeded" | "invoice.paid" | "invoice.payment_failed">(
  (event) => event.data.object.customer,
);

/** A subscription's Checkout re-syncs the customer; a payment-mode one sold a credit pack. */
async function fromCheckoutSession(session: Stripe.Checkout.Session, ctx: HandlerContext): Promise<HandlerOutcome> {
  if (session.mode === "payment") return ctx.creditPackSession(session.id);
  const customerId = idOf(session.customer);
  return customerId ? ctx.sync(customerId) : { outcome: "no-customer" };
}

export const webhookHandlers = {
  "checkout.session.completed": (event, ctx) => fromCheckoutSession(event.data.object, ctx),
  // A delayed payment method (a bank debit) completes the session unpaid and is reported paid days later by this.
  "checkout.session.async_payment_succeeded": (event, ctx) => fromCheckoutSession(event.data.object, ctx),
  "customer.subscription.created": fromSubscription,
  "customer.subscription.updated": fromSubscription,
  "customer.subscription.deleted": fromSubscription,
  // Three days before a trial ends; the sync enqueues the trial-ending email (see billing-emails).
  "customer.subscription.trial_will_end": fromSubscription,
  "invoice.payment_succeeded": fromInvoice,
  "invoice.paid": fromInvoice,
  "invoice.payment_failed": fromInvoice,
  // Test mode only: a yearly plan's monthly refill follows the customer's test clock.
  "test_helpers.test_clock.ready": (event, ctx) => ctx.followTestClock(event.data.object),
  // A refunded pack payment takes back what is left of the pack; other charges' refunds are not packs.
  "charge.refunded": (event, ctx) => ctx.creditPackPayment(idOf(event.data.object.payment_intent)),
  // A chargeback takes the money back as a refund does, so it takes back what is left of the pack too.
  "charge.dispute.created": (event, ctx) => ctx.creditPackPayment(idOf(event.data.object.payment_intent)),
} satisfies { [T in Stripe.Event.Type]?: Handler<T> };

export type HandledEventType = keyof typeof webhookHandlers;

/** The `data.object.object` each handled event carries; anything else is a malformed event (400). */
export const handledEventObjects = {
  "checkout.session.completed": "checkout.session",
  "checkout.session.async_payment_succeeded": "checkout.session",
  "customer.subscription.created": "subscription",
  "customer.subscription.updated": "subscription",
  "customer.subscription.deleted": "subscription",
  "customer.subscription.trial_will_end": "subscription",
  "invoice.payment_succeeded": "invoice",
  "invoice.paid": "invoice",
  "invoice.payment_failed": "invoice",
  "test_helpers.test_clock.ready": "test_helpers.test_clock",
  "charge.refunded": "charge",
  "charge.dispute.created": "dispute",
} as const satisfies Record<HandledEventType, string>;

export type HandledEvent = EventOf<HandledEventType>;

export function isHandledEvent(event: Stripe.Event): event is HandledEvent {
  return Object.hasOwn(webhookHandlers, event.type);
}

export function dispatchEvent(event: HandledEvent, ctx: HandlerContext): Promise<HandlerOutcome> {
  // TypeScript cannot correlate the map's key with the event union; the map's `satisfies` checks each row.
  const handler = webhookHandlers[event.type] as Handler<HandledEventType>;
  return handler(event, ctx);
}

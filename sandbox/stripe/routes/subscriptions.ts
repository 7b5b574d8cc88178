// Subscriptions: create, retrieve, update (price change, cancel at period end / at a time), cancel, list.
import type Stripe from "stripe";
import { checkCoupon, checkPromotionCode } from "../discounts";
import { StripeApiError, invalidParameter, invalidRequest, missingParameter, resourceMissing } from "../errors";
import { isMetered, refuseMeteredQuantity } from "../metered";
import type { Redemption, SandboxState } from "../state";
import type { Params } from "../form";
import { arrayOf, boolean, checkEach, emptyable, integer, metadata, object, oneOf, string } from "../schema";
import { allowOnly, bool, int, mergeMetadata, obj, objects, requireStr, str } from "../params";
import { LIST_PARAMS, listOf, nullableStr, checkNested, readTrialDays, stringRecord, type RouteContext } from "./router";

const PRORATION = oneOf("always_invoice", "create_prorations", "none");
const FEEDBACK = oneOf("customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex", "too_expensive", "unused");
/** Enums and nested shapes of the subscription params the sandbox reads (Stripe.SubscriptionCreateParams / UpdateParams). */
const SUBSCRIPTION_PARAMS = {
  items: arrayOf(object({ id: string, price: string, quantity: integer, metadata: emptyable(metadata), deleted: boolean })),
  payment_behavior: oneOf("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"),
  proration_behavior: PRORATION,
  collection_method: oneOf("charge_automatically", "send_invoice"),
  cancel_at_period_end: boolean,
  cancellation_details: object({ comment: emptyable(string), feedback: emptyable(FEEDBACK) }),
  billing_cycle_anchor: oneOf("now", "unchanged"),
  proration_date: integer,
  off_session: boolean,
  metadata: emptyable(metadata),
};
/** Params only subscription create reads here: one discount, automatic tax. */
const CREATE_ONLY_PARAMS = {
  discounts: emptyable(arrayOf(object({ coupon: string, promotion_code: string, discount: string }))),
  automatic_tax: object({ enabled: boolean, liability: object({ type: oneOf("account", "self"), account: string }, ["type"]) }, ["enabled"]),
};

/** `discounts[0][coupon]` or `discounts[0][promotion_code]` on create (the sandbox keeps one discount per subscription). */
function readSubscriptionDiscount(state: SandboxState, params: Params, customer: string, context: { now: number; amount: number; currency: string }): Redemption | null {
  const discounts = params.discounts === "" ? [] : objects(params, "discounts");
  if (!discounts || discounts.length === 0) return null;
  if (discounts.length > 1) throw invalidParameter("discounts", "The Stripe sandbox supports one discount per subscription.");
  const [entry] = discounts;
  const coupon = entry && str(entry, "coupon", "discounts[0][coupon]");
  const promotionCode = entry && str(entry, "promotion_code", "discounts[0][promotion_code]");
  if (entry && str(entry, "discount", "discounts[0][discount]")) throw invalidParameter("discounts[0][discount]", "The Stripe sandbox redeems coupons and promotion codes only.");
  if (coupon && promotionCode) throw invalidRequest("You may only specify one of these parameters: coupon, promotion_code.", "discounts[0]");
  if (coupon) {
    checkCoupon(state, coupon, context, "discounts[0][coupon]");
    return { coupon, promotionCode: null };
  }
  if (promotionCode) {
    const promo = state.promotionCodes[promotionCode];
    if (!promo) throw resourceMissing("promotion_code", promotionCode, "discounts[0][promotion_code]");
    try {
      return checkPromotionCode(state, promo, { ...context, customer });
    } catch (error) {
      if (error instanceof StripeApiError) throw invalidParameter("discounts[0][promotion_code]", error.message);
      throw error;
    }
  }
  throw missingParameter("discounts[0][coupon]");
}

function throwMissingPrice(index: number): never {
  throw missingParameter(`items[${index}][price]`);
}

const LIST_STATUS = oneOf("active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid");

export function subscriptionRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  // Subscriptions
  const readItems = (params: Params) => {
    const items = objects(params, "items");
    return items?.map((item, i) => {
      checkNested(item, `items[${i}]`, ["id", "price", "quantity", "metadata", "deleted"]);
      return {
        id: str(item, "id", `items[${i}][id]`),
        price: str(item, "price", `items[${i}][price]`),
        quantity: int(item, "quantity", `items[${i}][quantity]`),
      };
    });
  };
  const readCancelAt = (params: Params): number | null | undefined => {
    const value = params.cancel_at;
    if (value === undefined) return undefined;
    if (value === "") return null;
    if (value === "min_period_end" || value === "max_period_end") return -1;
    return int(params, "cancel_at");
  };
  route("POST", "/v1/subscriptions", ({ params, ctx }) => {
    allowOnly(params, ["customer", "items", "default_payment_method", "metadata", "description", "payment_behavior", "cancel_at_period_end", "cancel_at", "collection_method", "proration_behavior", "off_session", "payment_settings", "billing_mode", "discounts", "automatic_tax", "trial_period_days"]);
    checkEach(params, SUBSCRIPTION_PARAMS);
    checkEach(params, CREATE_ONLY_PARAMS);
    const trialPeriodDays = readTrialDays(params, "trial_period_days");
    const customer = engine.requireCustomer(requireStr(params, "customer"), "customer");
    const items = readItems(params);
    if (!items || items.length === 0) throw missingParameter("items");
    const prices = items.map((item, i) => engine.requirePrice(item.price ?? throwMissingPrice(i), `items[${i}][price]`));
    items.forEach((item, i) => refuseMeteredQuantity(prices[i], item.quantity, `items[${i}]`));
    const licensed = items.filter((_, i) => !isMetered(prices[i]!));
    if (licensed.length !== 1) throw invalidParameter("items", "The Stripe sandbox supports subscriptions with one licensed item (and any metered items).");
    const first = licensed[0]!;
    const price = engine.requirePrice(first.price ?? "", "items[0][price]");
    const pmParam = str(params, "default_payment_method");
    const pm = pmParam ? engine.attachPaymentMethod(pmParam, customer, ctx, "default_payment_method") : null;
    const behavior = str(params, "payment_behavior") ?? "allow_incomplete";
    if (behavior !== "allow_incomplete" && behavior !== "default_incomplete" && behavior !== "error_if_incomplete") {
      throw invalidParameter("payment_behavior", `Invalid payment_behavior: ${behavior}`);
    }
    const cancelAt = readCancelAt(params);
    const redemption = readSubscriptionDiscount(engine.state, params, customer.id, { now: engine.nowForCustomer(customer.id), amount: (price.unit_amount ?? 0) * (first.quantity ?? 1), currency: price.currency });
    const automaticTax = obj(params, "automatic_tax");
    const taxed = automaticTax ? (bool(automaticTax, "enabled", "automatic_tax[enabled]") ?? false) : false;
    if (taxed && (!customer.address?.country || !customer.address.postal_code)) {
      throw new StripeApiError(400, "invalid_request_error", "customer_tax_location_invalid", "Automatic tax calculation requires a valid address on the Customer.", "automatic_tax[enabled]");
    }
    return engine.createSubscription(
      {
        customer,
        price,
        quantity: first.quantity ?? 1,
        paymentMethod: pm?.id ?? null,
        metadata: stringRecord(params, "metadata"),
        description: str(params, "description") ?? null,
        paymentBehavior: behavior,
        cancelAt: cancelAt === undefined || cancelAt === -1 ? null : cancelAt,
        cancelAtPeriodEnd: bool(params, "cancel_at_period_end") ?? cancelAt === -1,
        redemption,
        automaticTax: taxed,
        trialPeriodDays,
        meteredPrices: prices.filter(isMetered),
      },
      ctx,
    );
  });
  route("GET", "/v1/subscriptions/:id", (_req, id) => engine.requireSubscription(id));
  route("POST", "/v1/subscriptions/:id", ({ params, ctx }, id) => {
    if (params.discounts !== undefined) throw invalidParameter("discounts", "The Stripe sandbox sets a subscription's discount at create only.");
    allowOnly(params, ["items", "proration_behavior", "cancel_at_period_end", "cancel_at", "metadata", "default_payment_method", "description", "payment_behavior", "cancellation_details", "proration_date", "billing_cycle_anchor", "off_session"]);
    checkEach(params, SUBSCRIPTION_PARAMS);
    const sub = engine.requireSubscription(id);
    const customer = engine.requireCustomer(String(sub.customer), "customer");
    const terminal = sub.status === "canceled" || sub.status === "incomplete_expired";
    const items = readItems(params);
    const cancelAtPeriodEnd = bool(params, "cancel_at_period_end");
    const cancelAt = readCancelAt(params);
    if (terminal && (items || cancelAtPeriodEnd !== undefined || cancelAt !== undefined)) {
      throw invalidRequest("A canceled subscription can only update its cancellation_details and metadata.");
    }
    const pmParam = nullableStr(params, "default_payment_method");
    const pm = pmParam ? engine.attachPaymentMethod(pmParam, customer, ctx, "default_payment_method") : pmParam === undefined ? undefined : null;
    const description = nullableStr(params, "description");
    const cancellationDetails = obj(params, "cancellation_details");
    checkNested(cancellationDetails, "cancellation_details", ["comment", "feedback"]);
    const simpleChanges = (s2: Stripe.Subscription) => {
      s2.metadata = mergeMetadata(s2.metadata, params);
      if (pm !== undefined) s2.default_payment_method = pm === null ? null : pm.id;
      if (description !== undefined) s2.description = description;
      if (cancellationDetails && s2.cancellation_details) {
        const comment = nullableStr(cancellationDetails, "comment");
        if (comment !== undefined) s2.cancellation_details.comment = comment;
        const feedback = nullableStr(cancellationDetails, "feedback");
        if (feedback !== undefined) s2.cancellation_details.feedback = feedback as Stripe.Subscription.CancellationDetails.Feedback | null;
      }
    };
    const newPrice = items?.[0]?.price;
    if (items && items.length > 0) {
      const first = items[0];
      const item = sub.items.data[0];
      if (first?.id && item && first.id !== item.id) throw resourceMissing("subscription_item", first.id, "items[0][id]");
      if (!first?.id && newPrice && item && item.price.id !== newPrice) {
        throw invalidParameter("items[0][id]", "Pass `items[0][id]` to change the price of the existing item (the sandbox supports one item).");
      }
    }
    if (newPrice && newPrice !== sub.items.data[0]?.price.id) {
      const price = engine.requirePrice(newPrice, "items[0][price]");
      engine.changePrice(sub, price, items?.[0]?.quantity ?? null, str(params, "proration_behavior") ?? "create_prorations", ctx, simpleChanges);
    } else {
      engine.changeSubscription(sub, simpleChanges, ctx);
    }
    if (cancelAtPeriodEnd !== undefined) engine.scheduleCancel(sub, { atPeriodEnd: cancelAtPeriodEnd }, ctx);
    if (cancelAt !== undefined) {
      if (cancelAt === -1) engine.scheduleCancel(sub, { atPeriodEnd: true }, ctx);
      else engine.scheduleCancel(sub, { at: cancelAt }, ctx);
    }
    return sub;
  });
  route("DELETE", "/v1/subscriptions/:id", ({ params, ctx }, id) => {
    allowOnly(params, ["invoice_now", "prorate", "cancellation_details"]);
    checkEach(params, { invoice_now: boolean, prorate: boolean, cancellation_details: SUBSCRIPTION_PARAMS.cancellation_details });
    const sub = engine.requireSubscription(id);
    if (sub.status === "canceled" || sub.status === "incomplete_expired") {
      throw invalidRequest(`A canceled subscription can't be canceled again: ${id}.`);
    }
    const details = obj(params, "cancellation_details");
    checkNested(details, "cancellation_details", ["comment", "feedback"]);
    const comment = details ? nullableStr(details, "comment") : undefined;
    const feedback = details ? nullableStr(details, "feedback") : undefined;
    if (comment !== undefined || feedback !== undefined) {
      sub.cancellation_details = {
        comment: comment === undefined ? (sub.cancellation_details?.comment ?? null) : comment,
        feedback: feedback === undefined ? (sub.cancellation_details?.feedback ?? null) : (feedback as Stripe.Subscription.CancellationDetails.Feedback | null),
        feedback_option: sub.cancellation_details?.feedback_option ?? null,
        reason: sub.cancellation_details?.reason ?? null,
      };
    }
    return engine.cancelNow(sub, { invoiceNow: bool(params, "invoice_now") ?? false, prorate: bool(params, "prorate") ?? false }, ctx);
  });
  route("GET", "/v1/subscriptions", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "status", "price", "test_clock", "collection_method", "current_period_end", "current_period_start"]);
    checkEach(params, { status: LIST_STATUS, collection_method: SUBSCRIPTION_PARAMS.collection_method });
    const customer = str(params, "customer");
    const status = str(params, "status");
    const price = str(params, "price");
    const clock = str(params, "test_clock");
    return listOf(
      Object.values(s().subscriptions).filter(
        (sub) =>
          (!customer || sub.customer === customer) &&
          // Without `status`, Stripe lists every subscription that is not canceled.
          (status === "all" || (status ? sub.status === status : sub.status !== "canceled")) &&
          (!price || sub.items.data.some((item) => item.price.id === price)) &&
          (!clock || sub.test_clock === clock),
      ),
      params,
      "/v1/subscriptions",
    );
  });
}

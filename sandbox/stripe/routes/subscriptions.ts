// Subscriptions: create, retrieve, update (price change, cancel at period end / at a time), cancel, list.
import type Stripe from "stripe";
import { invalidParameter, invalidRequest, missingParameter, resourceMissing } from "../errors";
import type { Params } from "../form";
import { arrayOf, boolean, checkEach, emptyable, integer, metadata, object, oneOf, string } from "../schema";
import { allowOnly, bool, int, mergeMetadata, obj, objects, requireStr, str } from "../params";
import { LIST_PARAMS, listOf, nullableStr, checkNested, stringRecord, type RouteContext } from "./router";

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
    allowOnly(params, ["customer", "items", "default_payment_method", "metadata", "description", "payment_behavior", "cancel_at_period_end", "cancel_at", "collection_method", "proration_behavior", "off_session", "payment_settings", "billing_mode"]);
    checkEach(params, SUBSCRIPTION_PARAMS);
    const customer = engine.requireCustomer(requireStr(params, "customer"), "customer");
    const items = readItems(params);
    if (!items || items.length === 0) throw missingParameter("items");
    if (items.length > 1) throw invalidParameter("items", "The Stripe sandbox supports subscriptions with one item.");
    const first = items[0];
    if (!first?.price) throw missingParameter("items[0][price]");
    const price = engine.requirePrice(first.price, "items[0][price]");
    const pmParam = str(params, "default_payment_method");
    const pm = pmParam ? engine.attachPaymentMethod(pmParam, customer, ctx, "default_payment_method") : null;
    const behavior = str(params, "payment_behavior") ?? "allow_incomplete";
    if (behavior !== "allow_incomplete" && behavior !== "default_incomplete" && behavior !== "error_if_incomplete") {
      throw invalidParameter("payment_behavior", `Invalid payment_behavior: ${behavior}`);
    }
    const cancelAt = readCancelAt(params);
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
      },
      ctx,
    );
  });
  route("GET", "/v1/subscriptions/:id", (_req, id) => engine.requireSubscription(id));
  route("POST", "/v1/subscriptions/:id", ({ params, ctx }, id) => {
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
    return engine.endSubscription(sub, engine.nowForCustomer(String(sub.customer)), ctx, "cancellation_requested");
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

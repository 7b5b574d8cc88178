// Checkout Sessions in `subscription` mode and in `payment` mode (one-time prices, paid by a PaymentIntent): create
// (validated as Stripe does), retrieve, line items, expire, list.
import type Stripe from "stripe";
import type { Engine } from "../engine";
import { StripeApiError, invalidParameter, invalidRequest, missingParameter, resourceMissing } from "../errors";
import type { Params } from "../form";
import { allowOnly, bool, int, obj, objects, requireStr, str } from "../params";
import { checkCoupon, checkPromotionCode, priceCheckoutSession } from "../discounts";
import { isMetered, refuseMeteredQuantity } from "../metered";
import { type Redemption, randomToken, realNow } from "../state";
import { arrayOf, boolean, checkEach, integer, metadata, object, oneOf, string, validateFields, type Spec } from "../schema";
import { LIST_PARAMS, type ListObject, listOf, checkNested, readTrialDays, stringRecord, throwMissing, type RouteContext } from "./router";

/** A session's line items, built from what it was created with (Stripe computes them on request, too). */
export function checkoutLineItems(engine: Engine, sessionId: string): ListObject<Stripe.LineItem> {
  const setup = engine.state.checkoutSetup[sessionId];
  const data = (setup?.lines ?? []).flatMap((line): Stripe.LineItem[] => {
    const price = engine.state.prices[line.price];
    if (!price) return [];
    const amount = (price.unit_amount ?? 0) * line.quantity;
    return [
      {
        id: `li_${randomToken(24)}`,
        object: "item",
        adjustable_quantity: null,
        amount_discount: 0,
        amount_subtotal: amount,
        amount_tax: 0,
        amount_total: amount,
        currency: price.currency,
        description: engine.productName(price),
        metadata: {},
        price,
        quantity: line.quantity,
      } satisfies Stripe.LineItem,
    ];
  });
  // One line per session in the sandbox: it carries the session's discount and tax.
  const session = engine.state.checkoutSessions[sessionId];
  const only = data.length === 1 ? data[0] : undefined;
  if (only && session?.total_details) {
    only.amount_discount = session.total_details.amount_discount;
    only.amount_tax = session.total_details.amount_tax;
    only.amount_total = session.amount_total ?? only.amount_total;
  }
  return { object: "list", data, has_more: false, url: `/v1/checkout/sessions/${sessionId}/line_items` };
}

const AUTO_OR_NEVER = oneOf("auto", "never");
const LOCALES = "auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hi-IN hr hu id it ja ko lt lv ms mt nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW".split(" ");

/** The create params the sandbox takes, with Stripe's enums (Checkout.SessionCreateParams in the pinned types). */
const CREATE_PARAMS: Record<string, Spec> = {
  mode: oneOf("payment", "setup", "subscription"),
  line_items: arrayOf(object({ price: string, quantity: integer })),
  success_url: string,
  cancel_url: string,
  customer: string,
  customer_email: string,
  customer_update: object({ address: AUTO_OR_NEVER, name: AUTO_OR_NEVER, shipping: AUTO_OR_NEVER }),
  billing_address_collection: oneOf("auto", "required"),
  client_reference_id: string,
  subscription_data: object({ metadata, description: string, trial_period_days: integer }),
  payment_intent_data: object({ metadata, description: string }),
  metadata,
  allow_promotion_codes: boolean,
  locale: oneOf(...LOCALES),
  ui_mode: oneOf("elements", "embedded_page", "form", "hosted_page"),
  expires_at: integer,
  payment_method_collection: oneOf("always", "if_required"),
  expand: arrayOf(string),
  discounts: arrayOf(object({ coupon: string, promotion_code: string })),
  automatic_tax: object({ enabled: boolean, liability: object({ type: oneOf("account", "self"), account: string }, ["type"]) }, ["enabled"]),
};

/** `discounts[0][coupon]` or `discounts[0][promotion_code]`: checked now, redeemed when the session is paid. */
function readDiscounts(engine: Engine, params: Params, customer: string | null, context: { now: number; amount: number; currency: string }): Redemption | null {
  const discounts = objects(params, "discounts");
  if (!discounts || discounts.length === 0) return null;
  if (bool(params, "allow_promotion_codes") === true) {
    throw invalidRequest("You may only specify one of these parameters: allow_promotion_codes, discounts.", "discounts");
  }
  if (discounts.length > 1) throw invalidParameter("discounts", "A Checkout Session takes at most one discount.");
  const [entry] = discounts;
  const coupon = entry && str(entry, "coupon", "discounts[0][coupon]");
  const promotionCode = entry && str(entry, "promotion_code", "discounts[0][promotion_code]");
  if (coupon && promotionCode) throw invalidRequest("You may only specify one of these parameters: coupon, promotion_code.", "discounts[0]");
  if (coupon) {
    checkCoupon(engine.state, coupon, context, "discounts[0][coupon]");
    return { coupon, promotionCode: null };
  }
  if (promotionCode) {
    const promo = engine.state.promotionCodes[promotionCode];
    if (!promo) throw resourceMissing("promotion_code", promotionCode, "discounts[0][promotion_code]");
    try {
      return checkPromotionCode(engine.state, promo, { ...context, customer });
    } catch (error) {
      if (error instanceof StripeApiError) throw invalidParameter("discounts[0][promotion_code]", error.message);
      throw error;
    }
  }
  throw missingParameter("discounts[0][coupon]");
}

/** Params that belong to the other mode: Stripe's 400 names the param, as the sandbox does. */
const SUBSCRIPTION_ONLY = ["subscription_data", "payment_method_collection"] as const;
const PAYMENT_ONLY = ["payment_intent_data"] as const;
/** What the sandbox's payment mode does not implement (Stripe takes them): refused rather than silently ignored. */
const NOT_IN_SANDBOX_PAYMENT = ["discounts", "allow_promotion_codes", "automatic_tax"] as const;

function checkModeParams(params: Params, mode: "payment" | "subscription"): void {
  const misplaced = mode === "payment" ? SUBSCRIPTION_ONLY : PAYMENT_ONLY;
  for (const name of misplaced) {
    if (params[name] !== undefined) {
      throw invalidParameter(name, `You can not pass \`${name}\` in \`${mode}\` mode.`);
    }
  }
  if (mode !== "payment") return;
  for (const name of NOT_IN_SANDBOX_PAYMENT) {
    if (params[name] !== undefined) throw invalidParameter(name, `The Stripe sandbox does not support \`${name}\` in \`payment\` mode.`);
  }
}

export function checkoutSessionRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  // Checkout Sessions
  route("POST", "/v1/checkout/sessions", ({ params, ctx }) => {
    validateFields(params, CREATE_PARAMS);
    const mode = requireStr(params, "mode");
    if (mode !== "subscription" && mode !== "payment") {
      throw invalidParameter("mode", "The Stripe sandbox supports Checkout in `subscription` and `payment` modes only.");
    }
    checkModeParams(params, mode);
    const uiMode = str(params, "ui_mode");
    if (uiMode !== undefined && uiMode !== "hosted_page") throw invalidParameter("ui_mode", "The Stripe sandbox hosts Checkout pages only (`ui_mode=hosted_page`).");
    const lineItems = objects(params, "line_items");
    if (!lineItems || lineItems.length === 0) throw missingParameter("line_items");
    const lines = lineItems.map((item, i) => {
      checkNested(item, `line_items[${i}]`, ["price", "quantity"]);
      const price = engine.requirePrice(requireStr(item, "price", `line_items[${i}][price]`), `line_items[${i}][price]`);
      if (mode === "subscription" && !price.recurring) {
        throw invalidParameter(`line_items[${i}][price]`, "You must specify at least one recurring price in `subscription` mode.");
      }
      if (mode === "payment" && price.recurring) {
        throw invalidParameter(
          `line_items[${i}][price]`,
          "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
        );
      }
      if (!price.active) throw invalidParameter(`line_items[${i}][price]`, "The price specified is inactive.");
      const quantity = int(item, "quantity", `line_items[${i}][quantity]`);
      refuseMeteredQuantity(price, quantity, `line_items[${i}]`);
      // A metered line has no quantity: it adds nothing to the amount due now (its usage is billed at renewals).
      return { price: price.id, quantity: isMetered(price) ? 0 : (quantity ?? 1) };
    });
    const customerId = str(params, "customer");
    const customerEmail = str(params, "customer_email");
    if (customerId && customerEmail) throw invalidRequest("You may only specify one of these parameters: customer, customer_email.", "customer_email");
    const customer = customerId ? engine.requireCustomer(customerId, "customer") : null;
    const customerUpdate = obj(params, "customer_update");
    if (customerUpdate && !customer) throw invalidRequest("customer_update can only be used with customer.", "customer_update");
    const billing = str(params, "billing_address_collection");
    if (billing !== undefined && billing !== "auto" && billing !== "required") {
      throw invalidParameter("billing_address_collection", "Invalid billing_address_collection: must be one of auto or required");
    }
    const subscriptionData = obj(params, "subscription_data");
    const paymentIntentData = obj(params, "payment_intent_data");
    const first = engine.requirePrice(lines[0]?.price ?? "");
    const redemption = readDiscounts(engine, params, customer?.id ?? null, {
      now: customer ? engine.nowForCustomer(customer.id) : realNow(),
      amount: (first.unit_amount ?? 0) * (lines[0]?.quantity ?? 1),
      currency: first.currency,
    });
    const automaticTax = obj(params, "automatic_tax");
    const amount = lines.reduce((sum, line) => sum + (s().prices[line.price]?.unit_amount ?? 0) * line.quantity, 0);
    const session = engine.createCheckoutSession(
      {
        customer: customer?.id ?? null,
        customerEmail: customer ? customer.email : (customerEmail ?? null),
        clientReferenceId: str(params, "client_reference_id") ?? null,
        billingAddressCollection: billing ?? null,
        allowPromotionCodes: bool(params, "allow_promotion_codes") ?? null,
        amount,
        currency: first.currency,
        metadata: stringRecord(params, "metadata"),
        successUrl: str(params, "success_url") ?? null,
        cancelUrl: str(params, "cancel_url") ?? null,
        locale: str(params, "locale") ?? null,
        mode,
      },
      {
        lines,
        subscriptionMetadata: subscriptionData ? stringRecord(subscriptionData, "metadata") : {},
        subscriptionDescription: (subscriptionData && str(subscriptionData, "description")) ?? null,
        trialPeriodDays: readTrialDays(subscriptionData, "subscription_data[trial_period_days]"),
        customerUpdate: {
          name: (customerUpdate && str(customerUpdate, "name")) ?? null,
          address: (customerUpdate && str(customerUpdate, "address")) ?? null,
        },
        redemption,
        ...(paymentIntentData
          ? { paymentIntentData: { metadata: stringRecord(paymentIntentData, "metadata"), description: str(paymentIntentData, "description") ?? null } }
          : {}),
      },
      ctx,
    );
    if (automaticTax && bool(automaticTax, "enabled", "automatic_tax[enabled]")) {
      // Tax is known once Checkout has the customer's address (collected on the page).
      session.automatic_tax = { enabled: true, liability: { type: "self" }, provider: "stripe", status: "requires_location_inputs" };
    }
    priceCheckoutSession(s(), session, s().checkoutSetup[session.id]);
    // Stripe leaves `customer_email` null when a customer is given; the page still shows the customer's email.
    if (customer) session.customer_email = null;
    const expiresAt = int(params, "expires_at");
    if (expiresAt !== undefined) session.expires_at = expiresAt;
    return session;
  });
  route("GET", "/v1/checkout/sessions/:id", (_req, id) => {
    const session = s().checkoutSessions[id] ?? throwMissing("checkout.session", id);
    engine.expireIfDue(session);
    return session;
  });
  route("GET", "/v1/checkout/sessions/:id/line_items", ({ params }, id) => {
    allowOnly(params, LIST_PARAMS);
    if (!s().checkoutSessions[id]) throwMissing("checkout.session", id);
    return checkoutLineItems(engine, id);
  });
  route("POST", "/v1/checkout/sessions/:id/expire", ({ ctx }, id) =>
    engine.expireSession(s().checkoutSessions[id] ?? throwMissing("checkout.session", id), ctx),
  );
  route("GET", "/v1/checkout/sessions", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "subscription", "status", "payment_intent", "customer_details"]);
    checkEach(params, { status: oneOf("complete", "expired", "open") });
    const customer = str(params, "customer");
    const subscription = str(params, "subscription");
    const status = str(params, "status");
    const paymentIntent = str(params, "payment_intent");
    return listOf(
      Object.values(s().checkoutSessions).filter(
        (cs) =>
          (!customer || cs.customer === customer) &&
          (!subscription || cs.subscription === subscription) &&
          (!paymentIntent || cs.payment_intent === paymentIntent) &&
          (!status || cs.status === status),
      ),
      params,
      "/v1/checkout/sessions",
    );
  });
}

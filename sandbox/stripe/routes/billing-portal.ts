// Customer portal configurations (features validated key by key) and portal sessions.
import type Stripe from "stripe";
import { invalidRequest, missingParameter, resourceMissing } from "../errors";
import type { Params } from "../form";
import { defaultPortalFeatures, portalConfigurationObject, portalSessionObject } from "../objects";
import { allowOnly, bool, mergeMetadata, obj, objects, requireStr, str, strings } from "../params";
import { arrayOf, boolean, emptyable, integer, object, oneOf, string, validate, type Spec } from "../schema";
import { clone, newId, realNow } from "../state";
import { LIST_PARAMS, listOf, nullableStr, stringRecord, throwMissing, type RouteContext } from "./router";

const PRORATION = oneOf("always_invoice", "create_prorations", "none");
const CONDITIONS = arrayOf(object({ type: oneOf("decreasing_item_amount", "shortening_interval") }, ["type"]));

/** `features[...]` as the pinned API takes it (BillingPortal.ConfigurationCreateParams.Features); `enabled` is required on create. */
function featuresSpec(creating: boolean): Spec {
  const enabled = creating ? ["enabled"] : [];
  return object({
    customer_update: object({ allowed_updates: emptyable(arrayOf(oneOf("address", "email", "name", "phone", "shipping", "tax_id"))), enabled: boolean }, enabled),
    invoice_history: object({ enabled: boolean }, ["enabled"]),
    payment_method_update: object({ enabled: boolean, payment_method_configuration: emptyable(string) }, ["enabled"]),
    subscription_cancel: object(
      {
        cancellation_reason: object(
          {
            enabled: boolean,
            feedback_options: emptyable(arrayOf(string)),
            options: emptyable(arrayOf(oneOf("customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex", "too_expensive", "unused"))),
          },
          creating ? ["enabled", "options"] : ["enabled"],
        ),
        enabled: boolean,
        mode: oneOf("at_period_end", "immediately"),
        proration_behavior: PRORATION,
      },
      enabled,
    ),
    subscription_pause: object({
      duration: object({ interval_options: emptyable(arrayOf(object({ interval: oneOf("day", "month", "week", "year"), interval_count: integer }, ["interval"]))), type: oneOf("indefinite", "interval_options") }, ["type"]),
      enabled: boolean,
    }),
    subscription_update: object(
      {
        billing_cycle_anchor: oneOf("now", "unchanged"),
        default_allowed_updates: emptyable(arrayOf(oneOf("price", "promotion_code", "quantity"))),
        enabled: boolean,
        products: emptyable(arrayOf(object({ adjustable_quantity: object({ enabled: boolean, maximum: integer, minimum: integer }, ["enabled"]), prices: arrayOf(string), product: string }, ["prices", "product"]))),
        proration_behavior: PRORATION,
        // Create takes a list of conditions; update also takes "" to clear them (Emptyable in the pinned types).
        schedule_at_period_end: object({ conditions: creating ? CONDITIONS : emptyable(CONDITIONS) }),
        trial_update_behavior: oneOf("continue_trial", "end_trial"),
      },
      enabled,
    ),
  });
}

const BUSINESS_PROFILE: Spec = object({ headline: emptyable(string), privacy_policy_url: string, terms_of_service_url: string });

export function billingPortalRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  // Billing portal
  const readFeatures = (params: Params, base: Stripe.BillingPortal.Configuration.Features, creating: boolean): Stripe.BillingPortal.Configuration.Features => {
    const features = obj(params, "features");
    if (!features) return base;
    validate(features, featuresSpec(creating), "features");
    const next = clone(base);
    const customerUpdate = obj(features, "customer_update");
    if (customerUpdate) {
      next.customer_update.enabled = bool(customerUpdate, "enabled") ?? next.customer_update.enabled;
      next.customer_update.allowed_updates = strings(customerUpdate, "allowed_updates") ?? next.customer_update.allowed_updates;
    }
    const invoiceHistory = obj(features, "invoice_history");
    if (invoiceHistory) next.invoice_history.enabled = bool(invoiceHistory, "enabled") ?? next.invoice_history.enabled;
    const pmUpdate = obj(features, "payment_method_update");
    if (pmUpdate) next.payment_method_update.enabled = bool(pmUpdate, "enabled") ?? next.payment_method_update.enabled;
    const cancel = obj(features, "subscription_cancel");
    if (cancel) {
      next.subscription_cancel.enabled = bool(cancel, "enabled") ?? next.subscription_cancel.enabled;
      next.subscription_cancel.mode = str(cancel, "mode") ?? next.subscription_cancel.mode;
      next.subscription_cancel.proration_behavior = str(cancel, "proration_behavior") ?? next.subscription_cancel.proration_behavior;
    }
    const update = obj(features, "subscription_update");
    if (update) {
      next.subscription_update.enabled = bool(update, "enabled") ?? next.subscription_update.enabled;
      const allowed = update.default_allowed_updates === "" ? [] : strings(update, "default_allowed_updates");
      if (allowed) next.subscription_update.default_allowed_updates = allowed;
      next.subscription_update.proration_behavior = str(update, "proration_behavior") ?? next.subscription_update.proration_behavior;
      const scheduleAtPeriodEnd = obj(update, "schedule_at_period_end");
      if (scheduleAtPeriodEnd) {
        // `conditions` may be sent empty ("") to clear it, as Stripe takes any emptyable array.
        const conditions = scheduleAtPeriodEnd.conditions === "" ? [] : objects(scheduleAtPeriodEnd, "conditions");
        if (conditions) {
          next.subscription_update.schedule_at_period_end = {
            conditions: conditions.map((condition, i) => ({
              type: requireStr(condition, "type", `features[subscription_update][schedule_at_period_end][conditions][${i}][type]`),
            })),
          };
        }
      }
      const products = update.products === "" ? [] : objects(update, "products");
      if (products) {
        next.subscription_update.products = products.map((p, i) => {
          const product = requireStr(p, "product", `features[subscription_update][products][${i}][product]`);
          if (!s().products[product]) throw resourceMissing("product", product, `features[subscription_update][products][${i}][product]`);
          const prices = strings(p, "prices") ?? [];
          for (const price of prices) engine.requirePrice(price, `features[subscription_update][products][${i}][prices]`);
          return { product, prices, adjustable_quantity: { enabled: false, maximum: null, minimum: 1 } };
        });
      }
    }
    return next;
  };
  const businessProfile = (params: Params) => {
    const profile = obj(params, "business_profile");
    if (profile) validate(profile, BUSINESS_PROFILE, "business_profile");
    return profile;
  };
  route("POST", "/v1/billing_portal/configurations", ({ params }) => {
    allowOnly(params, ["features", "business_profile", "default_return_url", "login_page", "metadata", "name"]);
    if (!obj(params, "features")) throw missingParameter("features");
    const profile = businessProfile(params);
    const config = portalConfigurationObject({
      headline: (profile && str(profile, "headline")) || null,
      privacyPolicyUrl: (profile && str(profile, "privacy_policy_url")) || null,
      termsOfServiceUrl: (profile && str(profile, "terms_of_service_url")) || null,
      defaultReturnUrl: str(params, "default_return_url") || null,
      features: readFeatures(params, defaultPortalFeatures(), true),
      // Like a test-mode account, the first configuration becomes the default one.
      isDefault: !Object.values(s().portalConfigurations).some((c) => c.is_default),
      name: str(params, "name") || null,
      metadata: stringRecord(params, "metadata"),
      now: realNow(),
    });
    s().portalConfigurations[config.id] = config;
    return config;
  });
  route("GET", "/v1/billing_portal/configurations/:id", (_req, id) =>
    s().portalConfigurations[id] ?? throwMissing("billing_portal.configuration", id),
  );
  route("POST", "/v1/billing_portal/configurations/:id", ({ params }, id) => {
    allowOnly(params, ["features", "business_profile", "default_return_url", "login_page", "metadata", "name", "active"]);
    const config = s().portalConfigurations[id] ?? throwMissing("billing_portal.configuration", id);
    const profile = businessProfile(params);
    if (profile) {
      const headline = nullableStr(profile, "headline");
      if (headline !== undefined) config.business_profile.headline = headline;
    }
    config.features = readFeatures(params, config.features, false);
    const active = bool(params, "active");
    if (active !== undefined) config.active = active;
    const returnUrl = nullableStr(params, "default_return_url");
    if (returnUrl !== undefined) config.default_return_url = returnUrl;
    const name = nullableStr(params, "name");
    if (name !== undefined) config.name = name;
    config.metadata = mergeMetadata(config.metadata ?? {}, params);
    config.updated = realNow();
    return config;
  });
  route("GET", "/v1/billing_portal/configurations", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "active", "is_default"]);
    const active = bool(params, "active");
    const isDefault = bool(params, "is_default");
    return listOf(
      Object.values(s().portalConfigurations).filter(
        (c) => (active === undefined || c.active === active) && (isDefault === undefined || c.is_default === isDefault),
      ),
      params,
      "/v1/billing_portal/configurations",
    );
  });
  route("POST", "/v1/billing_portal/sessions", ({ params, ctx }) => {
    allowOnly(params, ["customer", "return_url", "configuration", "locale", "flow_data", "on_behalf_of"]);
    const customer = engine.requireCustomer(requireStr(params, "customer"), "customer");
    const configurationId = str(params, "configuration");
    let config: Stripe.BillingPortal.Configuration | undefined;
    if (configurationId) {
      config = s().portalConfigurations[configurationId];
      if (!config) throw resourceMissing("billing_portal.configuration", configurationId, "configuration");
    } else {
      config = Object.values(s().portalConfigurations).find((c) => c.is_default && c.active);
      if (!config) {
        throw invalidRequest(
          "No configuration provided and your test mode default configuration has not been created. Provide a configuration or create your default by saving your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.",
        );
      }
    }
    const flow = readFlow(params, config);
    const id = newId("bps", 24);
    const session = portalSessionObject({
      id,
      configuration: config.id,
      customer: customer.id,
      returnUrl: str(params, "return_url") ?? config.default_return_url,
      url: `${ctx.baseUrl}/portal/${id}`,
      locale: str(params, "locale") ?? null,
      flow,
      now: engine.nowForCustomer(customer.id),
    });
    s().portalSessions[id] = session;
    return session;
  });
}

const FLOW_TYPES = ["payment_method_update", "subscription_cancel", "subscription_update", "subscription_update_confirm"];
const AFTER_COMPLETION_TYPES = ["portal_homepage", "redirect", "hosted_confirmation"];

/**
 * `flow_data`: a portal session that opens on one task. The sandbox carries out `payment_method_update` (the card
 * form alone, then `after_completion`); the subscription flows are refused by name rather than silently ignored.
 */
function readFlow(params: Params, config: Stripe.BillingPortal.Configuration): Stripe.BillingPortal.Session.Flow | null {
  const flowData = obj(params, "flow_data");
  if (!flowData) return null;
  const type = requireStr(flowData, "type", "flow_data[type]");
  if (!FLOW_TYPES.includes(type)) {
    throw invalidRequest(`Invalid flow_data[type]: must be one of ${FLOW_TYPES.join(", ")}`, "flow_data[type]");
  }
  if (type !== "payment_method_update") {
    throw invalidRequest(`The sandbox supports flow_data[type]=payment_method_update only, not ${type}.`, "flow_data[type]");
  }
  if (!config.features.payment_method_update.enabled) {
    throw invalidRequest("This configuration does not allow updating payment methods (features[payment_method_update][enabled]).", "flow_data[type]");
  }
  const after = obj(flowData, "after_completion");
  const afterType = after ? requireStr(after, "type", "flow_data[after_completion][type]") : "portal_homepage";
  if (!AFTER_COMPLETION_TYPES.includes(afterType)) {
    throw invalidRequest(`Invalid flow_data[after_completion][type]: must be one of ${AFTER_COMPLETION_TYPES.join(", ")}`, "flow_data[after_completion][type]");
  }
  const redirect = after && afterType === "redirect" ? obj(after, "redirect") : undefined;
  const returnUrl = redirect ? str(redirect, "return_url") : undefined;
  if (afterType === "redirect" && !returnUrl) throw missingParameter("flow_data[after_completion][redirect][return_url]");
  const confirmation = after && afterType === "hosted_confirmation" ? obj(after, "hosted_confirmation") : undefined;
  return {
    type: "payment_method_update",
    after_completion: {
      type: afterType,
      redirect: returnUrl ? { return_url: returnUrl } : null,
      hosted_confirmation: afterType === "hosted_confirmation" ? { custom_message: (confirmation && str(confirmation, "custom_message")) || null } : null,
    },
    customer_update: null,
    subscription_cancel: null,
    subscription_pause: null,
    subscription_update: null,
    subscription_update_confirm: null,
  } as Stripe.BillingPortal.Session.Flow;
}

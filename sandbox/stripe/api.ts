// The `/v1` REST surface: one route per Stripe endpoint the sandbox speaks. Each route names the params it accepts,
// reads them, calls the engine and answers with the stored object, expanded as `expand[]` asks.
import type Stripe from "stripe";
import { type Engine, type RequestContext, idOf } from "./engine";
import { invalidParameter, invalidRequest, missingParameter, resourceMissing, unknownParameter } from "./errors";
import type { Params } from "./form";
import {
  defaultPortalFeatures,
  portalConfigurationObject,
  portalSessionObject,
  priceObject,
  productObject,
  toAddress,
  webhookEndpointObject,
} from "./objects";
import {
  allowOnly,
  bool,
  expandPaths,
  int,
  mergeMetadata,
  obj,
  objects,
  requireStr,
  str,
  strings,
} from "./params";
import { API_VERSION, clone, newId, randomToken, realNow } from "./state";

export interface ApiRequest {
  method: string;
  path: string;
  params: Params;
  ctx: RequestContext;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

type Handler = (req: ApiRequest, id: string) => unknown;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

// ---- expansion and lists -----------------------------------------------------------------------------------

function lookupAny(engine: Engine, id: string): object | undefined {
  const s = engine.state;
  return (
    s.customers[id] ??
    s.subscriptions[id] ??
    s.invoices[id] ??
    s.prices[id] ??
    s.products[id] ??
    s.paymentMethods[id] ??
    s.checkoutSessions[id] ??
    s.testClocks[id] ??
    s.portalConfigurations[id]
  );
}

function expandInto(engine: Engine, node: Record<string, unknown>, segments: string[]): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  let value = node[head];
  if (value === undefined && head === "line_items" && node.object === "checkout.session" && typeof node.id === "string") {
    value = node[head] = checkoutLineItems(engine, node.id);
  }
  if (typeof value === "string") {
    const found = lookupAny(engine, value);
    if (found) value = node[head] = clone(found);
  }
  if (Array.isArray(value)) {
    node[head] = value.map((element: unknown) => {
      let el = element;
      if (typeof el === "string") el = lookupAny(engine, el) ? clone(lookupAny(engine, el)) : el;
      if (rest.length > 0 && typeof el === "object" && el !== null) expandInto(engine, el as Record<string, unknown>, rest);
      return el;
    });
    return;
  }
  if (rest.length > 0 && typeof value === "object" && value !== null) expandInto(engine, value as Record<string, unknown>, rest);
}

function expand(engine: Engine, body: unknown, paths: string[]): unknown {
  if (paths.length === 0 || typeof body !== "object" || body === null) return body;
  const copy = clone(body) as Record<string, unknown>;
  for (const path of paths) expandInto(engine, copy, path.split("."));
  return copy;
}

interface ListObject<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}

/** Stripe lists: newest first, `limit` (1..100, default 10), cursors `starting_after` / `ending_before`. */
function listOf<T extends { id: string }>(items: T[], params: Params, url: string): ListObject<T> {
  const limit = int(params, "limit") ?? 10;
  if (limit < 1 || limit > 100) throw invalidParameter("limit", "Invalid limit: must be between 1 and 100");
  const newestFirst = [...items].reverse();
  let start = 0;
  let end = newestFirst.length;
  const after = str(params, "starting_after");
  const before = str(params, "ending_before");
  if (after) {
    const index = newestFirst.findIndex((item) => item.id === after);
    if (index === -1) throw resourceMissing("object", after, "starting_after");
    start = index + 1;
  }
  if (before) {
    const index = newestFirst.findIndex((item) => item.id === before);
    if (index === -1) throw resourceMissing("object", before, "ending_before");
    end = index;
    start = Math.max(0, end - limit);
  }
  const window = newestFirst.slice(start, end);
  return { object: "list", data: clone(window.slice(0, limit)), has_more: window.length > limit, url };
}

const LIST_PARAMS = ["limit", "starting_after", "ending_before", "created"];

function checkoutLineItems(engine: Engine, sessionId: string): ListObject<Stripe.LineItem> {
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
  return { object: "list", data, has_more: false, url: `/v1/checkout/sessions/${sessionId}/line_items` };
}

// ---- params shared by several routes ---------------------------------------------------------------------------

function readAddress(params: Params, key: string): ReturnType<typeof toAddress> | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (value === "") return null;
  const address = obj(params, key);
  if (!address) return null;
  allowOnly(address, ["line1", "line2", "city", "state", "postal_code", "country"]);
  return toAddress({
    line1: str(address, "line1"),
    line2: str(address, "line2"),
    city: str(address, "city"),
    state: str(address, "state"),
    postal_code: str(address, "postal_code"),
    country: str(address, "country"),
  });
}

function nullableStr(params: Params, key: string): string | null | undefined {
  const value = str(params, key);
  if (value === undefined) return undefined;
  return value === "" ? null : value;
}

function checkNested(params: Params | undefined, key: string, allowed: string[]): void {
  if (!params) return;
  for (const name of Object.keys(params)) if (!allowed.includes(name)) throw unknownParameter(`${key}[${name}]`);
}

function stringRecord(params: Params, key: string): Record<string, string> {
  const value = obj(params, key);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (typeof v !== "string") throw invalidParameter(`${key}[${k}]`, `Invalid string: ${key}[${k}]`);
    out[k] = v;
  }
  return out;
}

// ---- the routes ---------------------------------------------------------------------------------------------

export function createApi(engine: Engine, hooks: { endpointsChanged(): void }) {
  const s = () => engine.state;
  const routes: Route[] = [];
  const route = (method: string, path: string, handler: Handler) => {
    const pattern = new RegExp(`^${path.replace(":id", "([^/]+)")}$`);
    routes.push({ method, pattern, handler });
  };

  // Products
  const createProduct = (params: Params, at: number): Stripe.Product => {
    const name = requireStr(params, "name");
    const id = str(params, "id");
    if (id && s().products[id]) throw invalidRequest(`Product already exists.`, "id");
    const product = productObject({
      id,
      name,
      description: str(params, "description"),
      active: bool(params, "active"),
      metadata: stringRecord(params, "metadata"),
      now: at,
    });
    s().products[product.id] = product;
    return product;
  };
  route("POST", "/v1/products", ({ params }) => {
    allowOnly(params, ["name", "id", "description", "active", "metadata", "default_price_data", "tax_code", "unit_label", "url", "images", "statement_descriptor", "marketing_features", "shippable", "type"]);
    const product = createProduct(params, realNow());
    const defaultPrice = obj(params, "default_price_data");
    if (defaultPrice) {
      const price = createPrice({ ...defaultPrice, product: product.id });
      product.default_price = price.id;
    }
    return product;
  });
  route("GET", "/v1/products/:id", (_req, id) => s().products[id] ?? throwMissing("product", id));
  route("POST", "/v1/products/:id", ({ params }, id) => {
    allowOnly(params, ["name", "description", "active", "metadata", "default_price"]);
    const product = s().products[id] ?? throwMissing("product", id);
    const name = str(params, "name");
    if (name !== undefined) product.name = name;
    const description = nullableStr(params, "description");
    if (description !== undefined) product.description = description;
    const active = bool(params, "active");
    if (active !== undefined) product.active = active;
    const defaultPrice = nullableStr(params, "default_price");
    if (defaultPrice !== undefined) product.default_price = defaultPrice;
    product.metadata = mergeMetadata(product.metadata, params);
    product.updated = realNow();
    return product;
  });
  route("DELETE", "/v1/products/:id", (_req, id) => {
    if (!s().products[id]) throwMissing("product", id);
    delete s().products[id];
    return { id, object: "product", deleted: true };
  });
  route("GET", "/v1/products", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "active", "ids"]);
    const active = bool(params, "active");
    const ids = strings(params, "ids");
    return listOf(
      Object.values(s().products).filter((p) => (active === undefined || p.active === active) && (!ids || ids.includes(p.id))),
      params,
      "/v1/products",
    );
  });

  // Prices
  const claimLookupKey = (lookupKey: string | undefined, transfer: boolean | undefined, param: string): void => {
    if (!lookupKey) return;
    const holder = Object.values(s().prices).find((p) => p.lookup_key === lookupKey);
    if (!holder) return;
    if (!transfer) {
      throw invalidRequest(`A price (\`${holder.id}\`) already uses that lookup key.`, param);
    }
    holder.lookup_key = null;
  };
  const createPrice = (params: Params): Stripe.Price => {
    allowOnly(params, ["product", "product_data", "currency", "unit_amount", "unit_amount_decimal", "recurring", "lookup_key", "transfer_lookup_key", "nickname", "active", "metadata", "tax_behavior", "billing_scheme"]);
    const currency = requireStr(params, "currency").toLowerCase();
    const unitAmount = int(params, "unit_amount") ?? (str(params, "unit_amount_decimal") ? Math.round(Number(str(params, "unit_amount_decimal"))) : undefined);
    if (unitAmount === undefined) throw missingParameter("unit_amount");
    let productId = str(params, "product");
    const productData = obj(params, "product_data");
    if (!productId && !productData) throw missingParameter("product");
    if (productId && !s().products[productId]) throw resourceMissing("product", productId, "product");
    if (!productId && productData) {
      checkNested(productData, "product_data", ["name", "id", "active", "metadata", "statement_descriptor", "tax_code", "unit_label"]);
      productId = createProduct(productData, realNow()).id;
    }
    const recurring = obj(params, "recurring");
    checkNested(recurring, "recurring", ["interval", "interval_count", "usage_type", "trial_period_days"]);
    const interval = recurring ? requireStr(recurring, "interval", "recurring[interval]") : null;
    if (interval !== null && !["day", "week", "month", "year"].includes(interval)) {
      throw invalidParameter("recurring[interval]", `Invalid recurring[interval]: must be one of day, week, month, or year`);
    }
    const lookupKey = str(params, "lookup_key");
    claimLookupKey(lookupKey, bool(params, "transfer_lookup_key"), "lookup_key");
    const price = priceObject({
      product: productId ?? "",
      unitAmount,
      currency,
      interval: interval as Stripe.Price.Recurring.Interval | null,
      intervalCount: (recurring && int(recurring, "interval_count", "recurring[interval_count]")) || 1,
      lookupKey: lookupKey || null,
      nickname: str(params, "nickname") ?? null,
      active: bool(params, "active") ?? true,
      metadata: stringRecord(params, "metadata"),
      taxBehavior: str(params, "tax_behavior") ?? null,
      now: realNow(),
    });
    s().prices[price.id] = price;
    return price;
  };
  route("POST", "/v1/prices", ({ params }) => createPrice(params));
  route("GET", "/v1/prices/:id", (_req, id) => s().prices[id] ?? throwMissing("price", id));
  route("POST", "/v1/prices/:id", ({ params }, id) => {
    allowOnly(params, ["active", "lookup_key", "transfer_lookup_key", "metadata", "nickname", "tax_behavior"]);
    const price = s().prices[id] ?? throwMissing("price", id);
    const active = bool(params, "active");
    if (active !== undefined) price.active = active;
    const lookupKey = nullableStr(params, "lookup_key");
    if (lookupKey !== undefined && lookupKey !== price.lookup_key) {
      claimLookupKey(lookupKey ?? undefined, bool(params, "transfer_lookup_key"), "lookup_key");
      price.lookup_key = lookupKey;
    }
    const nickname = nullableStr(params, "nickname");
    if (nickname !== undefined) price.nickname = nickname;
    price.metadata = mergeMetadata(price.metadata, params);
    return price;
  });
  route("GET", "/v1/prices", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "active", "lookup_keys", "product", "type", "currency", "recurring"]);
    const active = bool(params, "active");
    const lookupKeys = strings(params, "lookup_keys");
    const product = str(params, "product");
    const type = str(params, "type");
    const currency = str(params, "currency");
    return listOf(
      Object.values(s().prices).filter(
        (p) =>
          (active === undefined || p.active === active) &&
          (!lookupKeys || (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))) &&
          (!product || idOf(p.product) === product) &&
          (!type || p.type === type) &&
          (!currency || p.currency === currency),
      ),
      params,
      "/v1/prices",
    );
  });

  // Customers
  const CUSTOMER_FIELDS = ["email", "name", "description", "phone", "address", "metadata", "invoice_settings", "payment_method", "test_clock", "preferred_locales", "shipping", "tax_exempt"];
  route("POST", "/v1/customers", ({ params, ctx }) => {
    allowOnly(params, CUSTOMER_FIELDS);
    const invoiceSettings = obj(params, "invoice_settings");
    checkNested(invoiceSettings, "invoice_settings", ["default_payment_method"]);
    const customer = engine.createCustomer(
      {
        email: str(params, "email") || null,
        name: str(params, "name") || null,
        description: str(params, "description") || null,
        phone: str(params, "phone") || null,
        address: readAddress(params, "address") ?? null,
        metadata: stringRecord(params, "metadata"),
        paymentMethod: str(params, "payment_method") || null,
        testClock: str(params, "test_clock") || null,
      },
      ctx,
    );
    const defaultPm = invoiceSettings && str(invoiceSettings, "default_payment_method", "invoice_settings[default_payment_method]");
    if (defaultPm) {
      const pm = engine.attachPaymentMethod(defaultPm, customer, ctx, "invoice_settings[default_payment_method]");
      customer.invoice_settings.default_payment_method = pm.id;
    }
    return customer;
  });
  route("GET", "/v1/customers/:id", (_req, id) => {
    const customer = s().customers[id];
    if (!customer) throw resourceMissing("customer", id);
    return customer;
  });
  route("POST", "/v1/customers/:id", ({ params, ctx }, id) => {
    allowOnly(params, CUSTOMER_FIELDS.filter((f) => f !== "test_clock"));
    const customer = engine.requireCustomer(id);
    const invoiceSettings = obj(params, "invoice_settings");
    checkNested(invoiceSettings, "invoice_settings", ["default_payment_method"]);
    let defaultPm: string | null | undefined;
    if (invoiceSettings) {
      const value = nullableStr(invoiceSettings, "default_payment_method");
      defaultPm = value ? engine.attachPaymentMethod(value, customer, ctx, "invoice_settings[default_payment_method]").id : value;
    }
    const paymentMethod = str(params, "payment_method");
    if (paymentMethod) defaultPm = engine.attachPaymentMethod(paymentMethod, customer, ctx).id;
    return engine.updateCustomer(
      customer,
      (c) => {
        const email = nullableStr(params, "email");
        if (email !== undefined) c.email = email;
        const name = nullableStr(params, "name");
        if (name !== undefined) c.name = name;
        const description = nullableStr(params, "description");
        if (description !== undefined) c.description = description;
        const phone = nullableStr(params, "phone");
        if (phone !== undefined) c.phone = phone;
        const address = readAddress(params, "address");
        if (address !== undefined) c.address = address;
        if (defaultPm !== undefined) c.invoice_settings.default_payment_method = defaultPm;
        c.metadata = mergeMetadata(c.metadata, params);
      },
      ctx,
    );
  });
  route("DELETE", "/v1/customers/:id", ({ ctx }, id) => {
    engine.deleteCustomer(engine.requireCustomer(id), ctx, false);
    return { id, object: "customer", deleted: true };
  });
  route("GET", "/v1/customers", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "email", "test_clock"]);
    const email = str(params, "email");
    const clock = str(params, "test_clock");
    return listOf(
      Object.values(s().customers).filter((c) => (!email || c.email === email) && (!clock || c.test_clock === clock)),
      params,
      "/v1/customers",
    );
  });
  const listPaymentMethods = (customerId: string, params: Params) =>
    listOf(
      Object.values(s().paymentMethods).filter((pm) => pm.customer === customerId),
      params,
      `/v1/customers/${customerId}/payment_methods`,
    );
  route("GET", "/v1/customers/:id/payment_methods", ({ params }, id) => {
    allowOnly(params, [...LIST_PARAMS, "type", "allow_redisplay"]);
    engine.requireCustomer(id);
    return listPaymentMethods(id, params);
  });

  // Payment methods
  route("GET", "/v1/payment_methods/:id", (_req, id) => engine.resolvePaymentMethod(id, "id"));
  route("POST", "/v1/payment_methods/:id/attach", ({ params, ctx }, id) => {
    allowOnly(params, ["customer"]);
    const customer = engine.requireCustomer(requireStr(params, "customer"), "customer");
    return engine.attachPaymentMethod(id, customer, ctx, "id");
  });
  route("POST", "/v1/payment_methods/:id/detach", ({ ctx }, id) => {
    const pm = s().paymentMethods[id] ?? throwMissing("PaymentMethod", id);
    if (!pm.customer) throw invalidRequest("The payment method you provided is not attached to a customer so detachment is impossible.");
    pm.customer = null;
    engine.emit("payment_method.detached", pm, ctx, realNow());
    return pm;
  });
  route("GET", "/v1/payment_methods", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "type"]);
    const customer = requireStr(params, "customer");
    return listPaymentMethods(customer, params);
  });

  // Checkout Sessions
  route("POST", "/v1/checkout/sessions", ({ params, ctx }) => {
    allowOnly(params, [
      "mode",
      "line_items",
      "success_url",
      "cancel_url",
      "customer",
      "customer_email",
      "customer_update",
      "billing_address_collection",
      "client_reference_id",
      "subscription_data",
      "metadata",
      "allow_promotion_codes",
      "locale",
      "ui_mode",
      "expires_at",
      "payment_method_collection",
    ]);
    const mode = requireStr(params, "mode");
    if (mode !== "subscription") throw invalidParameter("mode", "The Stripe sandbox supports Checkout in `subscription` mode only.");
    const uiMode = str(params, "ui_mode");
    if (uiMode !== undefined && uiMode !== "hosted_page") throw invalidParameter("ui_mode", "The Stripe sandbox hosts Checkout pages only (`ui_mode=hosted_page`).");
    const lineItems = objects(params, "line_items");
    if (!lineItems || lineItems.length === 0) throw missingParameter("line_items");
    const lines = lineItems.map((item, i) => {
      checkNested(item, `line_items[${i}]`, ["price", "quantity"]);
      const price = engine.requirePrice(requireStr(item, "price", `line_items[${i}][price]`), `line_items[${i}][price]`);
      if (!price.recurring) throw invalidParameter(`line_items[${i}][price]`, "You must specify at least one recurring price in `subscription` mode.");
      if (!price.active) throw invalidParameter(`line_items[${i}][price]`, "The price specified is inactive.");
      return { price: price.id, quantity: int(item, "quantity", `line_items[${i}][quantity]`) ?? 1 };
    });
    const customerId = str(params, "customer");
    const customerEmail = str(params, "customer_email");
    if (customerId && customerEmail) throw invalidRequest("You may only specify one of these parameters: customer, customer_email.", "customer_email");
    const customer = customerId ? engine.requireCustomer(customerId, "customer") : null;
    const customerUpdate = obj(params, "customer_update");
    if (customerUpdate && !customer) throw invalidRequest("customer_update can only be used with customer.", "customer_update");
    checkNested(customerUpdate, "customer_update", ["address", "name", "shipping"]);
    const billing = str(params, "billing_address_collection");
    if (billing !== undefined && billing !== "auto" && billing !== "required") {
      throw invalidParameter("billing_address_collection", "Invalid billing_address_collection: must be one of auto or required");
    }
    const subscriptionData = obj(params, "subscription_data");
    checkNested(subscriptionData, "subscription_data", ["metadata", "description"]);
    const first = engine.requirePrice(lines[0]?.price ?? "");
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
      },
      {
        lines,
        subscriptionMetadata: subscriptionData ? stringRecord(subscriptionData, "metadata") : {},
        subscriptionDescription: (subscriptionData && str(subscriptionData, "description")) ?? null,
        customerUpdate: {
          name: (customerUpdate && str(customerUpdate, "name")) ?? null,
          address: (customerUpdate && str(customerUpdate, "address")) ?? null,
        },
      },
      ctx,
    );
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
    const customer = str(params, "customer");
    const subscription = str(params, "subscription");
    const status = str(params, "status");
    return listOf(
      Object.values(s().checkoutSessions).filter(
        (cs) =>
          (!customer || cs.customer === customer) &&
          (!subscription || cs.subscription === subscription) &&
          (!status || cs.status === status),
      ),
      params,
      "/v1/checkout/sessions",
    );
  });

  // Billing portal
  const readFeatures = (params: Params, base: Stripe.BillingPortal.Configuration.Features): Stripe.BillingPortal.Configuration.Features => {
    const features = obj(params, "features");
    if (!features) return base;
    checkNested(features, "features", ["customer_update", "invoice_history", "payment_method_update", "subscription_cancel", "subscription_update", "subscription_pause"]);
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
      checkNested(cancel, "features[subscription_cancel]", ["enabled", "mode", "proration_behavior", "cancellation_reason"]);
      next.subscription_cancel.enabled = bool(cancel, "enabled") ?? next.subscription_cancel.enabled;
      next.subscription_cancel.mode = str(cancel, "mode") ?? next.subscription_cancel.mode;
      next.subscription_cancel.proration_behavior = str(cancel, "proration_behavior") ?? next.subscription_cancel.proration_behavior;
    }
    const update = obj(features, "subscription_update");
    if (update) {
      checkNested(update, "features[subscription_update]", ["enabled", "default_allowed_updates", "proration_behavior", "products", "billing_cycle_anchor", "schedule_at_period_end", "trial_update_behavior"]);
      next.subscription_update.enabled = bool(update, "enabled") ?? next.subscription_update.enabled;
      const allowed = update.default_allowed_updates === "" ? [] : strings(update, "default_allowed_updates");
      if (allowed) next.subscription_update.default_allowed_updates = allowed;
      next.subscription_update.proration_behavior = str(update, "proration_behavior") ?? next.subscription_update.proration_behavior;
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
    checkNested(profile, "business_profile", ["headline", "privacy_policy_url", "terms_of_service_url"]);
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
      features: readFeatures(params, defaultPortalFeatures()),
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
    config.features = readFeatures(params, config.features);
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
    const id = newId("bps", 24);
    const session = portalSessionObject({
      id,
      configuration: config.id,
      customer: customer.id,
      returnUrl: str(params, "return_url") ?? config.default_return_url,
      url: `${ctx.baseUrl}/portal/${id}`,
      locale: str(params, "locale") ?? null,
      now: engine.nowForCustomer(customer.id),
    });
    s().portalSessions[id] = session;
    return session;
  });

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
    const sub = engine.requireSubscription(id);
    if (sub.status === "canceled" || sub.status === "incomplete_expired") {
      throw invalidRequest(`A canceled subscription can't be canceled again: ${id}.`);
    }
    return engine.endSubscription(sub, engine.nowForCustomer(String(sub.customer)), ctx, "cancellation_requested");
  });
  route("GET", "/v1/subscriptions", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "status", "price", "test_clock", "collection_method", "current_period_end", "current_period_start"]);
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

  // Invoices
  route("GET", "/v1/invoices/:id", (_req, id) => engine.requireInvoice(id));
  route("GET", "/v1/invoices/:id/lines", ({ params }, id) => {
    allowOnly(params, LIST_PARAMS);
    const invoice = engine.requireInvoice(id);
    return { ...invoice.lines, url: `/v1/invoices/${id}/lines` };
  });
  route("POST", "/v1/invoices/:id/pay", ({ params, ctx }, id) => {
    allowOnly(params, ["payment_method", "off_session", "paid_out_of_band"]);
    return engine.payInvoice(engine.requireInvoice(id), ctx);
  });
  route("GET", "/v1/invoices", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "subscription", "status", "collection_method", "due_date"]);
    const customer = str(params, "customer");
    const subscription = str(params, "subscription");
    const status = str(params, "status");
    return listOf(
      Object.values(s().invoices).filter(
        (inv) =>
          (!customer || inv.customer === customer) &&
          (!subscription || idOf(inv.parent?.subscription_details?.subscription ?? null) === subscription) &&
          (!status || inv.status === status),
      ),
      params,
      "/v1/invoices",
    );
  });

  // Events
  route("GET", "/v1/events/:id", (_req, id) => s().events[id] ?? throwMissing("event", id));
  route("GET", "/v1/events", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "type", "types", "delivery_success"]);
    const type = str(params, "type");
    const types = strings(params, "types");
    if (type && types) throw invalidRequest("You may only specify one of these parameters: type, types.", "types");
    const deliverySuccess = bool(params, "delivery_success");
    const matchesType = (t: string) => {
      if (types) return types.includes(t);
      if (!type) return true;
      // Stripe accepts one trailing `*` wildcard, e.g. `invoice.*`.
      return type.endsWith("*") ? t.startsWith(type.slice(0, -1)) : t === type;
    };
    return listOf(
      Object.values(s().events).filter(
        (e) =>
          matchesType(e.type) &&
          (deliverySuccess === undefined || (deliverySuccess ? e.pending_webhooks === 0 : e.pending_webhooks > 0)),
      ),
      params,
      "/v1/events",
    );
  });

  // Webhook endpoints
  const publicEndpoint = (id: string): Stripe.WebhookEndpoint => {
    const stored = s().webhookEndpoints[id];
    if (!stored) throw resourceMissing("webhook_endpoint", id);
    return stored.endpoint;
  };
  route("POST", "/v1/webhook_endpoints", ({ params }) => {
    allowOnly(params, ["url", "enabled_events", "description", "api_version", "metadata", "connect"]);
    const url = requireStr(params, "url");
    const enabledEvents = strings(params, "enabled_events");
    if (!enabledEvents || enabledEvents.length === 0) throw missingParameter("enabled_events");
    const endpoint = webhookEndpointObject({
      url,
      enabledEvents,
      description: str(params, "description") || null,
      apiVersion: str(params, "api_version") ?? API_VERSION,
      metadata: stringRecord(params, "metadata"),
      now: realNow(),
    });
    const secret = `whsec_${randomToken(32)}`;
    s().webhookEndpoints[endpoint.id] = { endpoint, secret };
    hooks.endpointsChanged();
    // Only the create response reveals the signing secret, as on Stripe.
    return { ...endpoint, secret };
  });
  route("GET", "/v1/webhook_endpoints/:id", (_req, id) => publicEndpoint(id));
  route("POST", "/v1/webhook_endpoints/:id", ({ params }, id) => {
    allowOnly(params, ["url", "enabled_events", "description", "disabled", "metadata"]);
    const endpoint = publicEndpoint(id);
    const url = str(params, "url");
    if (url) endpoint.url = url;
    const enabled = strings(params, "enabled_events");
    if (enabled) endpoint.enabled_events = enabled;
    const description = nullableStr(params, "description");
    if (description !== undefined) endpoint.description = description;
    const disabled = bool(params, "disabled");
    if (disabled !== undefined) endpoint.status = disabled ? "disabled" : "enabled";
    endpoint.metadata = mergeMetadata(endpoint.metadata, params);
    hooks.endpointsChanged();
    return endpoint;
  });
  route("DELETE", "/v1/webhook_endpoints/:id", (_req, id) => {
    publicEndpoint(id);
    delete s().webhookEndpoints[id];
    hooks.endpointsChanged();
    return { id, object: "webhook_endpoint", deleted: true };
  });
  route("GET", "/v1/webhook_endpoints", ({ params }) => {
    allowOnly(params, LIST_PARAMS);
    return listOf(
      Object.values(s().webhookEndpoints).map((e) => e.endpoint),
      params,
      "/v1/webhook_endpoints",
    );
  });

  // Test clocks
  const requireClock = (id: string) => s().testClocks[id] ?? throwMissing("test_helpers.test_clock", id);
  route("POST", "/v1/test_helpers/test_clocks", ({ params, ctx }) => {
    allowOnly(params, ["frozen_time", "name"]);
    const frozenTime = int(params, "frozen_time");
    if (frozenTime === undefined) throw missingParameter("frozen_time");
    return engine.createTestClock(frozenTime, str(params, "name") ?? null, ctx);
  });
  route("GET", "/v1/test_helpers/test_clocks/:id", (_req, id) => requireClock(id));
  route("GET", "/v1/test_helpers/test_clocks", ({ params }) => {
    allowOnly(params, LIST_PARAMS);
    return listOf(Object.values(s().testClocks), params, "/v1/test_helpers/test_clocks");
  });
  route("POST", "/v1/test_helpers/test_clocks/:id/advance", ({ params, ctx }, id) => {
    allowOnly(params, ["frozen_time"]);
    const frozenTime = int(params, "frozen_time");
    if (frozenTime === undefined) throw missingParameter("frozen_time");
    return engine.advanceClock(requireClock(id), frozenTime, ctx);
  });
  route("DELETE", "/v1/test_helpers/test_clocks/:id", ({ ctx }, id) => {
    engine.deleteTestClock(requireClock(id), ctx);
    return { id, object: "test_helpers.test_clock", deleted: true };
  });

  return function handle(req: ApiRequest): ApiResponse {
    let pathMatched = false;
    for (const r of routes) {
      const match = r.pattern.exec(req.path);
      if (!match) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      const id = decodeURIComponent(match[1] ?? "");
      const result = r.handler(req, id);
      return { status: 200, body: expand(engine, result, expandPaths(req.params)) };
    }
    if (pathMatched) throw invalidRequest(`Unrecognized request URL (${req.method}: ${req.path}).`);
    return {
      status: 404,
      body: {
        error: {
          type: "invalid_request_error",
          code: null,
          message: `Unrecognized request URL (${req.method}: ${req.path}). The Stripe sandbox does not implement this endpoint.`,
          param: null,
        },
      },
    };
  };
}

function throwMissing(kind: string, id: string): never {
  throw resourceMissing(kind, id);
}


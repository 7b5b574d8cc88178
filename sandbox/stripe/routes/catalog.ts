// Products and prices: create, retrieve, update, delete (products), list; lookup keys move with `transfer_lookup_key`.
import type Stripe from "stripe";
import { idOf } from "../engine";
import { invalidParameter, invalidRequest, missingParameter, resourceMissing } from "../errors";
import type { Params } from "../form";
import { priceObject, productObject } from "../objects";
import { allowOnly, bool, int, mergeMetadata, obj, requireStr, str, strings } from "../params";
import { checkEach, emptyable, integer, object, oneOf, string } from "../schema";
import { realNow } from "../state";
import { LIST_PARAMS, listOf, nullableStr, checkNested, stringRecord, throwMissing, type RouteContext } from "./router";

const TAX_BEHAVIOR = oneOf("exclusive", "inclusive", "unspecified");
/** Enums and nested shapes of the price params the sandbox reads (Stripe.PriceCreateParams). */
const PRICE_PARAMS = {
  recurring: object({ interval: oneOf("day", "month", "week", "year"), interval_count: integer, usage_type: oneOf("licensed", "metered"), meter: string, trial_period_days: integer }, ["interval"]),
  transform_quantity: object({ divide_by: integer, round: oneOf("down", "up") }, ["divide_by", "round"]),
  tax_behavior: TAX_BEHAVIOR,
  billing_scheme: oneOf("per_unit", "tiered"),
  unit_amount: integer,
  lookup_key: emptyable(string),
};

export function catalogRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
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
    allowOnly(params, ["product", "product_data", "currency", "unit_amount", "unit_amount_decimal", "recurring", "lookup_key", "transfer_lookup_key", "nickname", "active", "metadata", "tax_behavior", "billing_scheme", "transform_quantity"]);
    checkEach(params, PRICE_PARAMS);
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
    checkNested(recurring, "recurring", ["interval", "interval_count", "usage_type", "meter", "trial_period_days"]);
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
      meter: readMeter(recurring),
      transformQuantity: readTransformQuantity(params),
      now: realNow(),
    });
    s().prices[price.id] = price;
    return price;
  };
  /** `recurring[usage_type]=metered` needs `recurring[meter]`, an existing meter; a licensed price takes none. */
  const readMeter = (recurring: Params | undefined): string | null => {
    const usageType = recurring ? str(recurring, "usage_type", "recurring[usage_type]") : undefined;
    const meter = recurring ? str(recurring, "meter", "recurring[meter]") : undefined;
    if (usageType !== "metered") {
      if (meter) throw invalidParameter("recurring[meter]", "`recurring[meter]` can only be set on prices with `recurring[usage_type]=metered`.");
      return null;
    }
    if (!meter) throw missingParameter("recurring[meter]");
    if (!s().meters?.[meter]) throw resourceMissing("billing.meter", meter, "recurring[meter]");
    return meter;
  };
  route("POST", "/v1/prices", ({ params }) => createPrice(params));
  route("GET", "/v1/prices/:id", (_req, id) => s().prices[id] ?? throwMissing("price", id));
  route("POST", "/v1/prices/:id", ({ params }, id) => {
    allowOnly(params, ["active", "lookup_key", "transfer_lookup_key", "metadata", "nickname", "tax_behavior"]);
    checkEach(params, { tax_behavior: TAX_BEHAVIOR });
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
    checkEach(params, { type: oneOf("one_time", "recurring") });
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
}

/** `transform_quantity[divide_by]` (a positive integer) and `[round]`: bill per block of units, e.g. per 1,000 tokens. */
function readTransformQuantity(params: Params): Stripe.Price.TransformQuantity | null {
  const transform = obj(params, "transform_quantity");
  if (!transform) return null;
  const divideBy = int(transform, "divide_by", "transform_quantity[divide_by]");
  if (divideBy === undefined) throw missingParameter("transform_quantity[divide_by]");
  if (divideBy < 1) throw invalidParameter("transform_quantity[divide_by]", "Invalid transform_quantity[divide_by]: must be greater than 0");
  const round = requireStr(transform, "round", "transform_quantity[round]");
  return { divide_by: divideBy, round: round === "up" ? "up" : "down" };
}

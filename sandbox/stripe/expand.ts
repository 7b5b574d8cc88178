// `expand[]`: replaces ids in a response with the objects they name, along dotted paths (`data.customer`,
// `latest_invoice.payment_intent`), the way Stripe's API does for the fields the sandbox stores.
import type { Engine } from "./engine";
import { StripeApiError, invalidRequest } from "./errors";
import { SANDBOX_TAX_RATE_ID, sandboxTaxRate } from "./discounts";
import { checkoutLineItems } from "./routes/checkout-sessions";
import { clone } from "./state";

function lookupAny(engine: Engine, id: string): object | undefined {
  const s = engine.state;
  return (
    s.customers[id] ??
    s.subscriptions[id] ??
    s.subscriptionSchedules[id] ??
    s.invoices[id] ??
    s.prices[id] ??
    s.products[id] ??
    s.paymentMethods[id] ??
    s.checkoutSessions[id] ??
    s.testClocks[id] ??
    s.portalConfigurations[id] ??
    s.charges[id] ??
    s.refunds[id] ??
    s.paymentIntents[id] ??
    s.coupons[id] ??
    s.promotionCodes[id] ??
    s.discounts[id] ??
    (id === SANDBOX_TAX_RATE_ID ? sandboxTaxRate() : undefined)
  );
}

const ID = /^[a-z][a-z0-9]*_[A-Za-z0-9_]+$/;

/** Stripe's answer to an `expand` path that names no expandable field of the object it answers with. */
function cannotExpand(path: string, index: number, list: boolean): StripeApiError {
  const hint = list && !path.startsWith("data.") ? ` You may want to try expanding 'data.${path}' instead.` : "";
  return invalidRequest(`This property cannot be expanded (${path}).${hint}`, `expand[${index}]`);
}

/**
 * Expands `segments` under `node`, refusing (via `refuse`) a segment that is not a field of the node, a final
 * segment that does not hold an id (or null, or ids in an array), and a step through a plain value.
 */
function expandInto(engine: Engine, node: Record<string, unknown>, segments: string[], refuse: () => never): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  let value = node[head];
  if (value === undefined && head === "line_items" && node.object === "checkout.session" && typeof node.id === "string") {
    value = node[head] = checkoutLineItems(engine, node.id);
  } else if (!Object.hasOwn(node, head)) {
    refuse();
  }
  if (value === null) return; // an expandable field with nothing in it: Stripe leaves null as it is
  const last = rest.length === 0;
  if (typeof value === "string") {
    // Coupon ids are the merchant's own strings (`LAUNCH20`), not prefixed ids.
    if (!ID.test(value) && !engine.state.coupons[value]) refuse();
    const found = lookupAny(engine, value);
    if (found) value = node[head] = clone(found);
    else if (!last) return; // an id the sandbox does not store (e.g. a payment intent): nothing to walk into
  } else if (last && !Array.isArray(value) && head !== "line_items") {
    // Already an object and not an id: a field Stripe always includes, which cannot be expanded.
    refuse();
  }
  if (Array.isArray(value)) {
    node[head] = value.map((element: unknown) => {
      let el = element;
      if (typeof el === "string") {
        if (!ID.test(el)) refuse();
        el = lookupAny(engine, el) ? clone(lookupAny(engine, el)) : el;
      } else if (last) {
        refuse();
      }
      if (!last && typeof el === "object" && el !== null) expandInto(engine, el as Record<string, unknown>, rest, refuse);
      return el;
    });
    return;
  }
  if (!last) {
    if (typeof value !== "object") refuse();
    expandInto(engine, value as Record<string, unknown>, rest, refuse);
  }
}

/** Stripe refuses paths deeper than four levels. */
const MAX_EXPAND_DEPTH = 4;

export function expand(engine: Engine, body: unknown, paths: string[]): unknown {
  if (paths.length === 0 || typeof body !== "object" || body === null) return body;
  const copy = clone(body) as Record<string, unknown>;
  const list = copy.object === "list";
  paths.forEach((path, index) => {
    const segments = path.split(".");
    if (segments.length > MAX_EXPAND_DEPTH) {
      throw invalidRequest(`You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. Property: ${path}`, `expand[${index}]`);
    }
    if (segments.some((segment) => segment === "")) throw cannotExpand(path, index, list);
    expandInto(engine, copy, segments, () => {
      throw cannotExpand(path, index, list);
    });
  });
  return copy;
}

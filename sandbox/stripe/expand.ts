// `expand[]`: replaces ids in a response with the objects they name, along dotted paths (`data.customer`,
// `latest_invoice.payment_intent`), the way Stripe's API does for the fields the sandbox stores.
import type { Engine } from "./engine";
import { checkoutLineItems } from "./routes/checkout-sessions";
import { clone } from "./state";

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

export function expand(engine: Engine, body: unknown, paths: string[]): unknown {
  if (paths.length === 0 || typeof body !== "object" || body === null) return body;
  const copy = clone(body) as Record<string, unknown>;
  for (const path of paths) expandInto(engine, copy, path.split("."));
  return copy;
}

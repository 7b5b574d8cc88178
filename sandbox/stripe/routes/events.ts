// Events: retrieve and list (type filters, `delivery_success`).
import { invalidRequest } from "../errors";
import { allowOnly, bool, str, strings } from "../params";
import { LIST_PARAMS, listOf, throwMissing, type RouteContext } from "./router";

export function eventRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
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
}

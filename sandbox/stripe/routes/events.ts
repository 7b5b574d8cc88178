// Events: retrieve and list (type filters, `delivery_success`). Like Stripe, the list covers the last 30 days.
import { invalidRequest } from "../errors";
import { allowOnly, bool, str, strings } from "../params";
import { realNow } from "../state";
import { LIST_PARAMS, listOf, throwMissing, type RouteContext } from "./router";

/** Stripe keeps events listable for 30 days. */
const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;

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
    /**
     * Stripe: `delivery_success=false` lists events "still pending or that have failed all delivery attempts to a
     * webhook endpoint"; `true` those every endpoint acknowledged. Decided per endpoint from the delivery records
     * (a duplicate copy that succeeded counts), not from `pending_webhooks` alone.
     */
    const delivered = (eventId: string): boolean => {
      const records = s().deliveries[eventId] ?? [];
      const endpoints = new Set(records.map((r) => r.endpoint));
      for (const r of records) if (r.state === "succeeded") endpoints.delete(r.endpoint);
      return endpoints.size === 0;
    };
    const since = realNow() - EVENT_RETENTION_SECONDS;
    const matchesType = (t: string) => {
      if (types) return types.includes(t);
      if (!type) return true;
      // Stripe accepts one trailing `*` wildcard, e.g. `invoice.*`.
      return type.endsWith("*") ? t.startsWith(type.slice(0, -1)) : t === type;
    };
    return listOf(
      Object.values(s().events).filter(
        (e) =>
          e.created >= since &&
          matchesType(e.type) &&
          (deliverySuccess === undefined || delivered(e.id) === deliverySuccess),
      ),
      params,
      "/v1/events",
    );
  });
}

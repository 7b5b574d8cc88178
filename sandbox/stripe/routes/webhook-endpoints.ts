// Webhook endpoints: create (the only response that shows the secret), retrieve, update, delete, list.
import type Stripe from "stripe";
import { missingParameter, resourceMissing } from "../errors";
import { webhookEndpointObject } from "../objects";
import { allowOnly, bool, mergeMetadata, requireStr, str, strings } from "../params";
import { API_VERSION, randomToken, realNow } from "../state";
import { LIST_PARAMS, listOf, nullableStr, stringRecord, type RouteContext } from "./router";

export function webhookEndpointRoutes({ engine, route, hooks }: RouteContext): void {
  const s = () => engine.state;
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
}

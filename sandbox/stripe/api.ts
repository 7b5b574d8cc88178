// The `/v1` REST surface: one module per resource under routes/ registers its routes here; this file matches a
// request to its route, runs it and expands the answer as `expand[]` asks (validating each path as Stripe does).
import type { Engine } from "./engine";
import { expand } from "./expand";
import { invalidRequest } from "./errors";
import { expandPaths } from "./params";
import { billingMeterRoutes } from "./routes/billing-meters";
import { billingPortalRoutes } from "./routes/billing-portal";
import { catalogRoutes } from "./routes/catalog";
import { checkoutSessionRoutes } from "./routes/checkout-sessions";
import { couponRoutes } from "./routes/coupons";
import { customerRoutes } from "./routes/customers";
import { eventRoutes } from "./routes/events";
import { invoiceRoutes } from "./routes/invoices";
import { refundRoutes } from "./routes/refunds";
import type { ApiHooks, ApiRequest, ApiResponse, Handler, Route } from "./routes/router";
import { subscriptionScheduleRoutes } from "./routes/subscription-schedules";
import { subscriptionRoutes } from "./routes/subscriptions";
import { testClockRoutes } from "./routes/test-clocks";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints";

export type { ApiHooks, ApiRequest, ApiResponse } from "./routes/router";

const RESOURCES = [
  catalogRoutes,
  customerRoutes,
  checkoutSessionRoutes,
  billingPortalRoutes,
  subscriptionRoutes,
  subscriptionScheduleRoutes,
  invoiceRoutes,
  refundRoutes,
  couponRoutes,
  eventRoutes,
  webhookEndpointRoutes,
  testClockRoutes,
  billingMeterRoutes,
];

export function createApi(engine: Engine, hooks: ApiHooks) {
  const routes: Route[] = [];
  const route = (method: string, path: string, handler: Handler) => {
    const pattern = new RegExp(`^${path.replace(":id", "([^/]+)")}$`);
    routes.push({ method, pattern, handler });
  };
  for (const register of RESOURCES) register({ engine, route, hooks });

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


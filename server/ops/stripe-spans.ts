// A span for every request the Stripe client makes ("stripe GET /v1/customers/{id}"), each retry its own, with the
// status and Stripe's request id (what Stripe's support asks for). Wraps the client's HTTP layer, so every call of
// every resource is covered without touching the call sites.
import type Stripe from "stripe";
import { SpanStatusCode } from "@opentelemetry/api";
import { inSpan } from "./telemetry";

type HttpClient = ReturnType<typeof Stripe.createNodeHttpClient>;

/** `/v1/customers/cus_123/balance?x=1` -> `/v1/customers/{id}/balance`: a span name that does not grow per object. */
export function stripePathTemplate(path: string): string {
  return (path.split("?")[0] ?? "").replace(/\/[a-z]+_[A-Za-z0-9_]+/g, "/{id}");
}

export function tracedStripeHttpClient(inner: HttpClient): HttpClient {
  return {
    getClientName: () => inner.getClientName(),
    makeRequest(host, port, path, method, headers, requestData, protocol, timeout) {
      const route = stripePathTemplate(path);
      return inSpan(
        `stripe ${method} ${route}`,
        { "http.request.method": method, "url.template": route, "url.path": path.split("?")[0] ?? "", "server.address": host },
        async (span) => {
          const response = await inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
          const status = response.getStatusCode();
          span.setAttribute("http.response.status_code", status);
          const requestId = response.getHeaders()["request-id"];
          if (typeof requestId === "string") span.setAttribute("stripe.request_id", requestId);
          if (status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
          return response;
        },
      );
    },
  };
}

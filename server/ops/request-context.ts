// Carries the current request's id through everything one request awaits (AsyncLocalStorage), so log lines and
// spans deep in billing or chat name the request without every function passing it along.
import { AsyncLocalStorage } from "node:async_hooks";
import { REQUEST_ID_HEADER, requestIdFrom } from "./request-id";

const storage = new AsyncLocalStorage<{ requestId: string }>();

/** The id of the request being served, or undefined outside one (start-up, the email deliverer, scripts). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

/**
 * Serves one request under its id (the one proxy.ts set, or the caller's if safe, or a new one) and returns that
 * id in the response's X-Request-Id, also when a route handler is called directly, without the proxy in front.
 */
export async function withRequestId(request: Request, handle: () => Promise<Response>): Promise<Response> {
  const requestId = requestIdFrom(request.headers);
  const response = await runWithRequestId(requestId, handle);
  try {
    response.headers.set(REQUEST_ID_HEADER, requestId);
    return response;
  } catch {
    // Some responses have immutable headers (Response.redirect, a fetched response): copy once.
    const copy = new Response(response.body, response);
    copy.headers.set(REQUEST_ID_HEADER, requestId);
    return copy;
  }
}

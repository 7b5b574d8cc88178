// The request id every log line and span of one request carries. Taken from an incoming X-Request-Id when it is
// short and plainly spelled (a load balancer's or the client's), else made here; either way it goes back in the
// response's X-Request-Id. Pure: proxy.ts runs it before any route.
export const REQUEST_ID_HEADER = "x-request-id";

/** Letters, digits, `.`, `_`, `-`, `:`; 1 to 64 characters. Anything else could forge log fields or bloat them. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function isSafeRequestId(value: string): boolean {
  return SAFE_REQUEST_ID.test(value);
}

/** The incoming id when it is safe, otherwise a new random one. */
export function requestIdFrom(headers: Headers): string {
  const incoming = headers.get(REQUEST_ID_HEADER)?.trim();
  return incoming && isSafeRequestId(incoming) ? incoming : crypto.randomUUID();
}

// Runs before every app route and page (Next 16's proxy, formerly middleware): gives each request its id, from a
// safe incoming X-Request-Id or a new one, passes it on to the route in that header and returns it in the response.
// It never redirects or refuses anything: the webhook route in particular must see Stripe's request unchanged.
import { NextResponse, type NextRequest } from "next/server";
import { REQUEST_ID_HEADER, requestIdFrom } from "@/server/ops/request-id";

export function proxy(request: NextRequest): NextResponse {
  const requestId = requestIdFrom(request.headers);
  const headers = new Headers(request.headers);
  headers.set(REQUEST_ID_HEADER, requestId);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set(REQUEST_ID_HEADER, requestId);
  return response;
}

export const config = {
  // Everything but Next's static files and images and the public folder's files (by extension).
  matcher: ["/((?!_next/static|_next/image|favicon\\.ico|.*\\.(?:png|jpg|jpeg|gif|svg|webp|ico|css|js|map|txt|woff2?)$).*)"],
};

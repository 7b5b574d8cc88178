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
  // Everything but Next's static files and images and the public folder's files (by extension), and the routes that
  // take request bodies: in front of them Next buffers the body for the proxy, so a 100 MB post grew the server by
  // ~80 MB before the route's own byte cap could refuse it. Those routes set their id themselves (withRequestId).
  matcher: ["/((?!_next/static|_next/image|api/webhooks|api/chat|api/trpc|favicon\\.ico|.*\\.(?:png|jpg|jpeg|gif|svg|webp|ico|css|js|map|txt|woff2?)$).*)"],
};

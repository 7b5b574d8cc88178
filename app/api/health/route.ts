// Liveness for load balancers and uptime checks: answers from the running server without touching the database,
// Stripe or Redis, so a slow dependency never makes a healthy process look dead. The bench's ceiling route too.
export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}

import { checkReadiness } from "@/server/ops/readiness";

// Readiness: 200 when the database and the budget store answer, else 503 naming what is down. Liveness is
// /api/health (process only). Never cached: every probe asks again.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const readiness = await checkReadiness();
  return Response.json(
    { status: readiness.ready ? "ready" : "unavailable", down: readiness.down, checks: readiness.checks },
    { status: readiness.ready ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}

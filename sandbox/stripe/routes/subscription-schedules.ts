// Subscription schedules: read and released through the API; the sandbox creates them only for the portal's
// downgrades at the period end (Engine.schedulePriceChange) and moves them through their phases at renewals.
import { allowOnly, str } from "../params";
import { LIST_PARAMS, listOf, throwMissing, type RouteContext } from "./router";

export function subscriptionScheduleRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  route("GET", "/v1/subscription_schedules/:id", ({ params }, id) => {
    allowOnly(params, ["expand"]);
    return s().subscriptionSchedules[id] ?? throwMissing("subscription_schedule", id);
  });
  route("GET", "/v1/subscription_schedules", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "expand", "scheduled", "canceled_at", "completed_at", "released_at"]);
    const customer = str(params, "customer");
    return listOf(
      Object.values(s().subscriptionSchedules).filter((schedule) => !customer || schedule.customer === customer),
      params,
      "/v1/subscription_schedules",
    );
  });
  route("POST", "/v1/subscription_schedules/:id/release", ({ params, ctx }, id) => {
    allowOnly(params, ["expand", "preserve_cancel_date"]);
    const schedule = s().subscriptionSchedules[id] ?? throwMissing("subscription_schedule", id);
    return engine.releaseSchedule(schedule, ctx);
  });
}

// Test clocks: create, retrieve, list, advance, delete.
import { missingParameter } from "../errors";
import { allowOnly, int, str } from "../params";
import { LIST_PARAMS, listOf, throwMissing, type RouteContext } from "./router";

export function testClockRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  // Test clocks
  const requireClock = (id: string) => s().testClocks[id] ?? throwMissing("test_helpers.test_clock", id);
  route("POST", "/v1/test_helpers/test_clocks", ({ params, ctx }) => {
    allowOnly(params, ["frozen_time", "name"]);
    const frozenTime = int(params, "frozen_time");
    if (frozenTime === undefined) throw missingParameter("frozen_time");
    return engine.createTestClock(frozenTime, str(params, "name") ?? null, ctx);
  });
  route("GET", "/v1/test_helpers/test_clocks/:id", (_req, id) => requireClock(id));
  route("GET", "/v1/test_helpers/test_clocks", ({ params }) => {
    allowOnly(params, LIST_PARAMS);
    return listOf(Object.values(s().testClocks), params, "/v1/test_helpers/test_clocks");
  });
  route("POST", "/v1/test_helpers/test_clocks/:id/advance", ({ params, ctx }, id) => {
    allowOnly(params, ["frozen_time"]);
    const frozenTime = int(params, "frozen_time");
    if (frozenTime === undefined) throw missingParameter("frozen_time");
    return engine.advanceClock(requireClock(id), frozenTime, ctx);
  });
  route("DELETE", "/v1/test_helpers/test_clocks/:id", ({ ctx }, id) => {
    engine.deleteTestClock(requireClock(id), ctx);
    return { id, object: "test_helpers.test_clock", deleted: true };
  });
}

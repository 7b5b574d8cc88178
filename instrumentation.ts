import { assertProductionServices } from "./lib/env";

// Runs once when a server starts: a production server refuses to start on embedded stand-ins unless told to.
export function register() {
  assertProductionServices();
}

import { assertProductionServices } from "./lib/env";

// Runs once when a server starts: a production server refuses to start on embedded stand-ins unless told to.
// Next.js would only log a failing hook and keep a broken server up, so this stops the process itself.
export function register() {
  try {
    assertProductionServices();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

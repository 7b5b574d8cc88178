// A production server refuses to start on embedded stand-ins unless told to (EMBEDDED_DEFAULTS=1). Next.js would
// only log a failing instrumentation hook and keep a broken server up, so this stops the process itself.
import { assertProductionServices } from "@/lib/env";

export function refuseEmbeddedServicesInProduction(): void {
  try {
    assertProductionServices();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

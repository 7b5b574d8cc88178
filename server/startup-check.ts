// A production server refuses to start on embedded stand-ins unless told to (EMBEDDED_DEFAULTS=1), and never on a
// generated AUTH_SECRET; when told to, it names every stand-in it runs on, loudly. Any server configured as one of
// several (APP_INSTANCES > 1) refuses per-process state (the in-process budget store above all), in every mode.
// Next.js would only log a failing instrumentation hook and keep a broken server up, so this stops the process itself.
import { assertProductionAuthSecret, assertProductionServices, assertSharedStateForInstances, embeddedDefaultsWarning } from "@/lib/env";

export function refuseEmbeddedServicesInProduction(): void {
  try {
    assertSharedStateForInstances();
    assertProductionServices();
    assertProductionAuthSecret();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  const warning = embeddedDefaultsWarning();
  if (warning) console.warn(warning);
}

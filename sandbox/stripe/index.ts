// The Stripe sandbox's one public entry: everything outside sandbox/stripe imports from here (see README.md).
export { startStripeSandbox, type StripeSandbox, type StripeSandboxOptions } from "./server";
export type { Faults } from "./delivery";
export { API_VERSION } from "./state";
export { type ThrottleOptions } from "./throttle";

// The Upstash REST bridge's one public entry: everything outside sandbox/upstash imports from here (see README.md).
export { ALLOWED_COMMANDS, startUpstashBridge, type UpstashBridge, type UpstashBridgeOptions } from "./server";

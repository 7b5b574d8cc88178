// `npm run sandbox:mail`: the local inbox as a standalone process. The sandbox is its own program and never imports
// the app, so it reads its two variables here rather than through lib/env.
import { startMailSandbox } from "./server";

function portFrom(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value.trim() === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name} must be a port number (0-65535), got "${value}"`);
  return port;
}

const inbox = await startMailSandbox({
  smtpPort: portFrom("MAIL_SANDBOX_SMTP_PORT", 1025),
  httpPort: portFrom("MAIL_SANDBOX_PORT", 8025),
});
console.log(`[mail-sandbox] SMTP_URL=${inbox.smtpUrl}  inbox ${inbox.url}  (API: ${inbox.url}/api/v1/messages)`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    inbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("[mail-sandbox] failed to stop cleanly:", error);
        process.exit(1);
      },
    );
  });
}

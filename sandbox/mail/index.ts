// The local inbox's one public entry: start it in-process, or run main.ts (`npm run sandbox:mail`).
export { startMailSandbox, type MailSandbox, type MailSandboxOptions, type StoredMessage, type MailAddress } from "./server";

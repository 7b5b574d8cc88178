// Sends one rendered email over SMTP with nodemailer. Every provider speaks SMTP (Resend, Postmark, SES, Mailgun),
// so SMTP_URL alone picks one; unset, mail goes to the local inbox (sandbox/mail) on MAIL_SANDBOX_SMTP_PORT.
import nodemailer, { type Transporter } from "nodemailer";
import { env, smtpUrl } from "@/lib/env";
import type { RenderedEmail } from "./render-email";

export interface Mailer {
  send(message: RenderedEmail & { to: string; headers?: Record<string, string> }): Promise<void>;
}

export function createSmtpMailer(options: { url?: string; from?: string } = {}): Mailer {
  const transport: Transporter = nodemailer.createTransport(options.url ?? smtpUrl(), {
    // A stuck server must not hold a delivery forever: the outbox retries it later.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const from = options.from ?? env.MAIL_FROM;
  return {
    async send(message) {
      await transport.sendMail({
        from,
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
        headers: message.headers,
      });
    },
  };
}

/** SMTP answered 5xx: the message is refused for good (bad address, rejected sender); retrying will not help. */
export function isPermanentSmtpFailure(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "responseCode" in error ? error.responseCode : undefined;
  return typeof code === "number" && code >= 500 && code < 600;
}

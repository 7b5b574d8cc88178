// The email outbox: emails are written in the transaction that decided them (keyed, so a replayed or reordered
// event cannot add one twice) and sent after commit by deliverDueEmails, which retries with backoff. An SMTP outage
// only delays mail; nothing waits on SMTP while it holds a database connection or lock.
// Delivery is at least once per row: a crash between the SMTP server's "250 OK" and marking the row sent resends it
// after its lease; the Message-ID header stays the same, so providers and clients can drop that duplicate.
import type { Db, Executor } from "@/db/client";
import { claimDueEmails, insertOutboxEmail, markEmailFailed, markEmailRetry, markEmailSent } from "@/db/queries/mail";
import { renderEmail } from "./render-email";
import type { EmailProps, EmailTemplateName } from "./templates";
import { isPermanentSmtpFailure, type Mailer } from "./transport";

export interface EmailRequest<N extends EmailTemplateName> {
  /** Unique per email that should exist once, e.g. `subscription-started:sub_123`. */
  key: string;
  userId: string | null;
  to: string;
  template: N;
  props: EmailProps<N>;
}

/** Adds an email to the outbox inside the caller's transaction; false when its key was already there. */
export function enqueueEmail<N extends EmailTemplateName>(tx: Executor, email: EmailRequest<N>): Promise<boolean> {
  return insertOutboxEmail(tx, {
    key: email.key,
    userId: email.userId,
    toAddress: email.to,
    template: email.template,
    props: email.props,
  });
}

export interface DeliveryDeps {
  db: Db;
  mailer: Mailer;
  now?: () => Date;
  batchSize?: number;
  /** How long a taken row stays with this deliverer before another may retry it. */
  leaseMs?: number;
}

export interface DeliveryReport {
  sent: number;
  retrying: number;
  failed: number;
}

/** Wait before the next attempt after `attempts` failures: 15 s, 30 s, 1 min, ... capped at one hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(15_000 * 2 ** Math.max(0, attempts - 1), 60 * 60 * 1000);
}

/** Sends every due email once (in batches); failures are rescheduled, 5xx refusals are set aside for good. */
export async function deliverDueEmails(deps: DeliveryDeps): Promise<DeliveryReport> {
  const now = deps.now ?? (() => new Date());
  const batchSize = deps.batchSize ?? 20;
  const leaseMs = deps.leaseMs ?? 5 * 60 * 1000;
  const report: DeliveryReport = { sent: 0, retrying: 0, failed: 0 };
  const seen = new Set<string>();

  for (;;) {
    const started = now();
    const batch = await claimDueEmails(deps.db, started, new Date(started.getTime() + leaseMs), batchSize);
    const fresh = batch.filter((row) => !seen.has(row.id));
    if (fresh.length === 0) return report;
    for (const row of fresh) {
      seen.add(row.id);
      try {
        const rendered = await renderEmail(row.template, row.props);
        await deps.mailer.send({ ...rendered, to: row.toAddress, headers: { "Message-ID": `<${row.id}@hourglass.outbox>` } });
        await markEmailSent(deps.db, row.id, now());
        report.sent += 1;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (isPermanentSmtpFailure(error) || message.startsWith("invalid props") || message.startsWith("unknown email template")) {
          console.error(`[mail] email ${row.id} (${row.template}) refused for good: ${message}`);
          await markEmailFailed(deps.db, row.id, now(), message);
          report.failed += 1;
        } else {
          const next = new Date(now().getTime() + retryDelayMs(row.attempts));
          console.warn(`[mail] email ${row.id} (${row.template}) not sent, attempt ${row.attempts}; retrying at ${next.toISOString()}: ${message}`);
          await markEmailRetry(deps.db, row.id, next, message);
          report.retrying += 1;
        }
      }
    }
    if (batch.length < batchSize) return report;
  }
}

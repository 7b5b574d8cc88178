// Tests read mail the way a person does: from the local inbox (sandbox/mail) over its Mailpit-shaped API.
import { startMailSandbox, type MailSandbox } from "../../sandbox/mail";

export interface InboxMessage {
  ID: string;
  From: { Address: string; Name: string };
  To: Array<{ Address: string; Name: string }>;
  Subject: string;
  Created: string;
}

export interface InboxMessageDetail extends InboxMessage {
  Text: string;
  HTML: string;
}

export async function listInbox(inboxUrl: string, to?: string): Promise<InboxMessage[]> {
  const response = await fetch(`${inboxUrl}/api/v1/messages?limit=1000`);
  if (!response.ok) throw new Error(`inbox answered ${response.status}`);
  const body = (await response.json()) as { messages: InboxMessage[] };
  return to ? body.messages.filter((message) => message.To.some((entry) => entry.Address === to)) : body.messages;
}

export async function readMessage(inboxUrl: string, id: string): Promise<InboxMessageDetail> {
  const response = await fetch(`${inboxUrl}/api/v1/message/${encodeURIComponent(id)}`);
  if (!response.ok) throw new Error(`inbox answered ${response.status} for message ${id}`);
  return (await response.json()) as InboxMessageDetail;
}

/** Waits for the newest message to `to` whose subject matches, and returns it with its body. */
export async function waitForMessage(
  inboxUrl: string,
  to: string,
  subject: RegExp | string,
  timeoutMs = 10_000,
): Promise<InboxMessageDetail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = (await listInbox(inboxUrl, to)).find((message) =>
      typeof subject === "string" ? message.Subject === subject : subject.test(message.Subject),
    );
    if (match) return readMessage(inboxUrl, match.ID);
    if (Date.now() > deadline) throw new Error(`no email "${String(subject)}" to ${to} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The first link in the plain-text part that starts with `prefix` (e.g. the app's /verify-email). */
export function linkIn(message: InboxMessageDetail, prefix: string): string {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}[^\\s)>\\]"']*`).exec(message.Text);
  if (!match) throw new Error(`no link starting with ${prefix} in "${message.Subject}":\n${message.Text}`);
  return match[0];
}

export async function startTestInbox(): Promise<MailSandbox> {
  return startMailSandbox({ smtpPort: 0, httpPort: 0 });
}

// The local inbox: a real SMTP server (smtp-server, parsed with mailparser) that keeps every message in memory,
// and an HTTP server with a web inbox and the part of Mailpit's JSON API tests need, so code and tests that read
// mail from Mailpit work against it unchanged. Standalone: never imports the app. Both servers bind to 127.0.0.1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser, type AddressObject } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface MailSandboxOptions {
  /** 0 picks a free port. */
  smtpPort?: number;
  /** 0 picks a free port. */
  httpPort?: number;
  host?: string;
  /** Messages kept; the oldest are dropped beyond it. */
  maxMessages?: number;
}

export interface MailAddress {
  Address: string;
  Name: string;
}

export interface StoredMessage {
  ID: string;
  MessageID: string;
  From: MailAddress;
  To: MailAddress[];
  Subject: string;
  Created: string;
  Text: string;
  HTML: string;
  Size: number;
}

export interface MailSandbox {
  /** The web inbox and API, e.g. http://127.0.0.1:8025 */
  url: string;
  /** What an app puts in SMTP_URL, e.g. smtp://127.0.0.1:1025 */
  smtpUrl: string;
  smtpPort: number;
  httpPort: number;
  messages(): readonly StoredMessage[];
  close(): Promise<void>;
}

/** Refuse messages over 10 MB at the SMTP level (SIZE extension), as Mailpit's default does not but a provider would. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

function addresses(value: AddressObject | AddressObject[] | undefined): MailAddress[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((group) => group.value).map((entry) => ({ Address: entry.address ?? "", Name: entry.name ?? "" }));
}

export async function startMailSandbox(options: MailSandboxOptions = {}): Promise<MailSandbox> {
  const host = options.host ?? "127.0.0.1";
  const maxMessages = options.maxMessages ?? 1000;
  // Oldest first; the API answers newest first.
  let store: StoredMessage[] = [];
  let sequence = 0;

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    // Any user and password are accepted, so an SMTP_URL with credentials works against the inbox too.
    onAuth(_auth, _session, callback) {
      callback(null, { user: "local" });
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
            callback(Object.assign(new Error("Message exceeds the 10 MB limit"), { responseCode: 552 }));
            return;
          }
          sequence += 1;
          const envelopeTo = session.envelope.rcptTo.map((rcpt) => ({ Address: rcpt.address, Name: "" }));
          const to = addresses(parsed.to);
          const from = addresses(parsed.from)[0] ?? { Address: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", Name: "" };
          store.push({
            ID: `${Date.now().toString(36)}-${sequence.toString(36)}`,
            MessageID: parsed.messageId ?? "",
            From: from,
            To: to.length > 0 ? to : envelopeTo,
            Subject: parsed.subject ?? "",
            Created: new Date().toISOString(),
            Text: parsed.text ?? "",
            HTML: typeof parsed.html === "string" ? parsed.html : "",
            Size: 0,
          });
          if (store.length > maxMessages) store = store.slice(store.length - maxMessages);
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });

  const web = http.createServer((req, res) => {
    try {
      route(req, res);
    } catch (error) {
      send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  });

  function newestFirst(): StoredMessage[] {
    return [...store].reverse();
  }

  function summary(message: StoredMessage) {
    return {
      ID: message.ID,
      MessageID: message.MessageID,
      Read: false,
      From: message.From,
      To: message.To,
      Cc: [],
      Bcc: [],
      Subject: message.Subject,
      Created: message.Created,
      Size: message.Size,
      Snippet: message.Text.replace(/\s+/g, " ").slice(0, 250),
    };
  }

  function route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path === "/api/v1/messages") {
      if (req.method === "DELETE") {
        store = [];
        send(res, 200, "ok");
        return;
      }
      if (req.method === "GET") {
        const all = newestFirst();
        const start = Math.max(0, Number(url.searchParams.get("start")) || 0);
        const limit = Math.max(1, Number(url.searchParams.get("limit")) || 50);
        const page = all.slice(start, start + limit);
        send(res, 200, {
          total: all.length,
          unread: all.length,
          count: page.length,
          messages_count: all.length,
          start,
          tags: [],
          messages: page.map(summary),
        });
        return;
      }
    }
    const one = /^\/api\/v1\/message\/([^/]+)$/.exec(path);
    if (one && req.method === "GET") {
      const id = decodeURIComponent(one[1] ?? "");
      const message = id === "latest" ? store[store.length - 1] : store.find((entry) => entry.ID === id);
      if (!message) {
        send(res, 404, "message not found");
        return;
      }
      send(res, 200, { ...summary(message), Text: message.Text, HTML: message.HTML, Attachments: [], Inline: [] });
      return;
    }
    const view = /^\/view\/([^/]+)\.html$/.exec(path);
    if (view && req.method === "GET") {
      const message = store.find((entry) => entry.ID === decodeURIComponent(view[1] ?? ""));
      if (!message) {
        send(res, 404, "message not found");
        return;
      }
      res.writeHead(200, {
        "Content-Type": "text/html; charset=utf-8",
        // The email's own HTML, shown in a sandboxed frame: no scripts run.
        "Content-Security-Policy": "script-src 'none'",
      });
      res.end(message.HTML || `<pre>${escapeHtml(message.Text)}</pre>`);
      return;
    }
    if ((path === "/" || path === "/index.html") && req.method === "GET") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(inboxPage(newestFirst(), url.searchParams.get("id")));
      return;
    }
    send(res, 404, "not found");
  }

  function inboxPage(messages: StoredMessage[], selectedId: string | null): string {
    const selected = messages.find((message) => message.ID === selectedId) ?? messages[0];
    const rows = messages
      .map(
        (message) =>
          `<li${message === selected ? ' class="on"' : ""}><a href="/?id=${encodeURIComponent(message.ID)}">` +
          `<b>${escapeHtml(message.Subject || "(no subject)")}</b><span>${escapeHtml(message.To.map((to) => to.Address).join(", "))}</span>` +
          `<time>${escapeHtml(message.Created.replace("T", " ").slice(0, 19))}</time></a></li>`,
      )
      .join("");
    const detail = selected
      ? `<h2>${escapeHtml(selected.Subject)}</h2><p class="meta">From ${escapeHtml(selected.From.Address)} to ${escapeHtml(
          selected.To.map((to) => to.Address).join(", "),
        )}</p><iframe sandbox title="Message" src="/view/${encodeURIComponent(selected.ID)}.html"></iframe>` +
        `<details><summary>Plain text</summary><pre>${escapeHtml(selected.Text)}</pre></details>`
      : "<p>No mail yet. Anything the app sends to SMTP_URL lands here.</p>";
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Local inbox</title><style>
body{margin:0;font:14px system-ui,sans-serif;color:#1f2937;display:grid;grid-template-columns:minmax(220px,320px) 1fr;min-height:100vh}
header{grid-column:1/-1;padding:12px 16px;border-bottom:1px solid #e5e7eb;display:flex;gap:16px;align-items:center}
header form{margin-left:auto}ul{list-style:none;margin:0;padding:0;border-right:1px solid #e5e7eb;overflow:auto}
li a{display:grid;padding:10px 16px;color:inherit;text-decoration:none;border-bottom:1px solid #f3f4f6}li.on a{background:#eef2ff}
li span,li time,.meta{color:#6b7280;font-size:12px}main{padding:16px;min-width:0}iframe{width:100%;height:70vh;border:1px solid #e5e7eb;border-radius:6px}
pre{white-space:pre-wrap}button{font:inherit;padding:4px 10px}
</style></head><body><header><strong>Local inbox</strong><span>${messages.length} message${messages.length === 1 ? "" : "s"}</span>
<a href="/">Refresh</a><form onsubmit="event.preventDefault();fetch('/api/v1/messages',{method:'DELETE'}).then(()=>location.assign('/'))"><button>Delete all</button></form>
</header><ul>${rows}</ul><main>${detail}</main></body></html>`;
  }

  await new Promise<void>((resolve, reject) => {
    smtp.once("error", reject);
    smtp.listen(options.smtpPort ?? 1025, host, () => {
      smtp.off("error", reject);
      resolve();
    });
  });
  // smtp-server keeps its net.Server on `.server`.
  const smtpAddress = (smtp as unknown as { server: { address(): AddressInfo } }).server.address();
  try {
    await new Promise<void>((resolve, reject) => {
      web.once("error", reject);
      web.listen(options.httpPort ?? 8025, host, () => {
        web.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    throw error;
  }
  const webAddress = web.address() as AddressInfo;

  return {
    url: `http://${host}:${webAddress.port}`,
    smtpUrl: `smtp://${host}:${smtpAddress.port}`,
    smtpPort: smtpAddress.port,
    httpPort: webAddress.port,
    messages: () => newestFirst(),
    close: async () => {
      web.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => web.close(() => resolve())),
        new Promise<void>((resolve) => smtp.close(() => resolve())),
      ]);
    },
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (typeof body === "string") {
    res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
    res.end(body);
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

// The local inbox over real SMTP and its Mailpit-shaped API: what the app's tests rely on to read mail.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { startMailSandbox, type MailSandbox } from "../index";

let inbox: MailSandbox;
beforeAll(async () => {
  inbox = await startMailSandbox({ smtpPort: 0, httpPort: 0 });
});
afterAll(() => inbox.close());
beforeEach(async () => {
  await fetch(`${inbox.url}/api/v1/messages`, { method: "DELETE" });
});

const transport = () => nodemailer.createTransport(inbox.smtpUrl);

describe("mail sandbox", () => {
  it("binds both servers to 127.0.0.1", () => {
    expect(inbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(inbox.smtpUrl).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
  });

  it("receives mail over SMTP and lists it newest first with Mailpit's fields", async () => {
    await transport().sendMail({ from: '"Hourglass" <hello@example.test>', to: "ada@example.test", subject: "first", text: "one" });
    await transport().sendMail({
      from: "hello@example.test",
      to: '"Bob B" <bob@example.test>',
      subject: "second",
      text: "two https://app.test/x",
      html: "<p>two <a href='https://app.test/x'>link</a></p>",
    });
    const list = (await (await fetch(`${inbox.url}/api/v1/messages`)).json()) as {
      total: number;
      messages: Array<{ ID: string; From: { Address: string; Name: string }; To: Array<{ Address: string; Name: string }>; Subject: string; Created: string }>;
    };
    expect(list.total).toBe(2);
    expect(list.messages.map((m) => m.Subject)).toEqual(["second", "first"]);
    expect(list.messages[1]?.From).toEqual({ Address: "hello@example.test", Name: "Hourglass" });
    expect(list.messages[0]?.To).toEqual([{ Address: "bob@example.test", Name: "Bob B" }]);
    expect(Number.isNaN(Date.parse(list.messages[0]?.Created ?? ""))).toBe(false);

    const one = (await (await fetch(`${inbox.url}/api/v1/message/${list.messages[0]?.ID}`)).json()) as { Text: string; HTML: string };
    expect(one.Text).toContain("https://app.test/x");
    expect(one.HTML).toContain("<a href='https://app.test/x'>");
  });

  it("deletes every message, and answers 404 for an unknown id", async () => {
    await transport().sendMail({ from: "a@example.test", to: "b@example.test", subject: "x", text: "x" });
    expect((await fetch(`${inbox.url}/api/v1/messages`, { method: "DELETE" })).status).toBe(200);
    const list = (await (await fetch(`${inbox.url}/api/v1/messages`)).json()) as { total: number; messages: unknown[] };
    expect(list).toMatchObject({ total: 0, messages: [] });
    expect((await fetch(`${inbox.url}/api/v1/message/nope`)).status).toBe(404);
  });

  it("serves a web inbox that shows a message's subject and its HTML in a sandboxed frame", async () => {
    await transport().sendMail({ from: "a@example.test", to: "b@example.test", subject: "Hello <there>", html: "<p>Body</p>" });
    const page = await (await fetch(`${inbox.url}/`)).text();
    expect(page).toContain("Hello &#60;there&#62;");
    expect(page).toMatch(/<iframe sandbox/);
  });

  // 11 MB through SMTP's dot-stuffing takes seconds on a loaded machine: a generous timeout, the same assertion.
  it("refuses a message over 10 MB", { timeout: 60_000 }, async () => {
    const huge = "x".repeat(11 * 1024 * 1024);
    await expect(transport().sendMail({ from: "a@example.test", to: "b@example.test", subject: "big", text: huge })).rejects.toThrow();
    expect(inbox.messages()).toHaveLength(0);
  });
});

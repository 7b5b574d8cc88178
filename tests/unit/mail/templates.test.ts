// Every email template renders to a subject, HTML and a plain-text part that carry its link; bad stored props are
// refused rather than rendered half-empty.
import { describe, expect, it } from "vitest";
import { renderEmail } from "@/server/mail/render-email";
import { emailTemplates, sampleEmailProps, type EmailTemplateName } from "@/server/mail/templates";
import { retryDelayMs } from "@/server/mail/outbox";

const names = Object.keys(emailTemplates) as EmailTemplateName[];

describe("email templates", () => {
  it.each(names)("%s renders HTML and plain text with its call to action", async (name) => {
    const props = sampleEmailProps[name] as Record<string, unknown>;
    const email = await renderEmail(name, props);
    expect(email.subject.length).toBeGreaterThan(5);
    expect(email.html).toMatch(/^<!DOCTYPE html/);
    const link = ["url", "invoiceUrl", "upgradeUrl", "accountUrl", "pricingUrl"].map((key) => props[key]).find((value) => typeof value === "string");
    expect(typeof link).toBe("string");
    expect(email.text).toContain(link as string);
    expect(email.html).toContain(`href="${link as string}"`);
    expect(email.text).not.toMatch(/<[a-z]/i);
  });

  it("refuses unknown templates and props that do not fit", async () => {
    await expect(renderEmail("nope", {})).rejects.toThrow(/unknown email template/);
    await expect(renderEmail("verify-email", { url: "not a url", expiresInHours: 24 })).rejects.toThrow(/invalid props/);
  });

  it("backs off from 15 s, doubling, to at most an hour", () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([15_000, 30_000, 60_000, 120_000]);
    expect(retryDelayMs(50)).toBe(3_600_000);
  });
});

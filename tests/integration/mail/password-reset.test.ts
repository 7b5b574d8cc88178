// Password reset over real SMTP into the local inbox: the same answer for every address, a single-use 30-minute
// link, the password policy, every session revoked, bad input that changes nothing, and the throttles on both halves.
import { afterAll, describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";
import { linkIn, listInbox, startTestInbox, waitForMessage } from "../../support/mail-inbox";

const inbox = await startTestInbox();
afterAll(() => inbox.close());
process.env.SMTP_URL = inbox.smtpUrl;
const {
  getDb,
  findUserById,
  signUp,
  authenticateWithPassword,
  requestPasswordReset,
  resetPassword,
  FORGOT_PASSWORD_ANSWER,
  currentSessionVersion,
  deliverDueEmails,
  createSmtpMailer,
  passwordProblem,
  throttle,
} = await loadApp();
const { createMemoryCounterStore, createThrottle, RESET_REQUEST_LIMITS, RESET_USE_LIMITS } = throttle;

const APP = "http://localhost:3000";
let counter = 0;
const newEmail = () => `reset-${++counter}-${Date.now()}@example.com`;
const deliver = async () => deliverDueEmails({ db: await getDb(), mailer: createSmtpMailer({ url: inbox.smtpUrl }) });

async function resetLinkFor(email: string) {
  await deliver();
  const message = await waitForMessage(inbox.url, email, "Reset your Hourglass password");
  return new URL(linkIn(message, `${APP}/reset-password?token=`)).searchParams.get("token");
}

describe("password reset", () => {
  it("sends a link only for an existing account, with the same answer either way", async () => {
    const user = await signUp({ email: newEmail(), password: "old password 1" }, { schedule: () => {}, tasks: [] });
    const unknown = newEmail();
    expect(await requestPasswordReset({ email: user.email.toUpperCase() })).toEqual({ message: FORGOT_PASSWORD_ANSWER });
    expect(await requestPasswordReset({ email: unknown })).toEqual({ message: FORGOT_PASSWORD_ANSWER });
    await deliver();
    await waitForMessage(inbox.url, user.email, "Reset your Hourglass password");
    expect(await listInbox(inbox.url, unknown)).toEqual([]);
    // A second request within the minute is answered the same and sends nothing.
    expect(await requestPasswordReset({ email: user.email })).toEqual({ message: FORGOT_PASSWORD_ANSWER });
    await deliver();
    expect((await listInbox(inbox.url, user.email)).filter((m) => m.Subject === "Reset your Hourglass password")).toHaveLength(1);
    await expect(requestPasswordReset({ email: "not an email" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(requestPasswordReset({ email: "x".repeat(10 * 1024 * 1024) })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("sets the new password once, revokes every session, confirms the email; the old password stops working", async () => {
    const user = await signUp({ email: newEmail(), password: "old password 1" }, { schedule: () => {}, tasks: [] });
    const versionBefore = await currentSessionVersion(user.id);
    await requestPasswordReset({ email: user.email });
    const token = await resetLinkFor(user.email);

    // A password the policy refuses does not use up the link.
    await expect(resetPassword({ token, password: "short" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await resetPassword({ token, password: "brand new password" })).toEqual({ userId: user.id, email: user.email });
    expect(await authenticateWithPassword({ email: user.email, password: "brand new password" })).toMatchObject({ id: user.id });
    expect(await authenticateWithPassword({ email: user.email, password: "old password 1" })).toBeNull();
    expect(await currentSessionVersion(user.id)).toBe((versionBefore ?? 0) + 1);
    expect((await findUserById(await getDb(), user.id))?.emailVerified).toBeInstanceOf(Date);

    await expect(resetPassword({ token, password: "third password!" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/already used/),
    });
    expect(await authenticateWithPassword({ email: user.email, password: "brand new password" })).toMatchObject({ id: user.id });
  });

  it("refuses expired and forged links and changes nothing", async () => {
    const user = await signUp({ email: newEmail(), password: "old password 1" }, { schedule: () => {}, tasks: [] });
    await requestPasswordReset({ email: user.email });
    const token = await resetLinkFor(user.email);
    const later = new Date(Date.now() + 31 * 60 * 1000);
    await expect(resetPassword({ token, password: "brand new password" }, { now: later })).rejects.toMatchObject({
      message: expect.stringMatching(/expired/),
    });
    await expect(resetPassword({ token: "B".repeat(43), password: "brand new password" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(resetPassword({ token: "x".repeat(10 * 1024 * 1024), password: "brand new password" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await authenticateWithPassword({ email: user.email, password: "old password 1" })).toMatchObject({ id: user.id });
    const versionBefore = await currentSessionVersion(user.id);
    expect(versionBefore).toBe(0);
  });
});

describe("password reset policy and throttling", () => {
  it("refuses a common password or one made of the account's own email, and keeps the link usable", async () => {
    const email = "zorblatt.quenfix@example.com";
    const user = await signUp({ email, password: "old password 1" }, { schedule: () => {}, tasks: [] });
    await requestPasswordReset({ email });
    const token = await resetLinkFor(email);
    await expect(resetPassword({ token, password: "password1234" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      details: { fieldErrors: { password: [expect.stringMatching(/too common/)] } },
    });
    // Strong enough for a stranger, weak for this account: the second check (with the account's words) refuses it.
    expect(await passwordProblem("zorblattquenfix")).toBeNull();
    await expect(resetPassword({ token, password: "zorblattquenfix" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await authenticateWithPassword({ email, password: "old password 1" })).toMatchObject({ id: user.id });
    expect(await resetPassword({ token, password: "amber kettle horizon" })).toEqual({ userId: user.id, email });
  });

  it("limits link requests per typed address the same way whether or not it has an account, and per client address", async () => {
    const throttle = createThrottle(RESET_REQUEST_LIMITS, createMemoryCounterStore());
    const user = await signUp({ email: newEmail(), password: "old password 1" }, { schedule: () => {}, tasks: [] });
    const unknown = newEmail();
    for (const email of [user.email, unknown]) {
      for (let i = 0; i < RESET_REQUEST_LIMITS.account.limit; i += 1) {
        expect(await requestPasswordReset({ email }, { throttle })).toEqual({ message: FORGOT_PASSWORD_ANSWER });
      }
      await expect(requestPasswordReset({ email }, { throttle })).rejects.toMatchObject({
        code: "TOO_MANY_REQUESTS",
        message: expect.stringMatching(/^Too many attempts\. Try again in 15 minutes\.$/),
      });
    }

    const perAddress = createThrottle(RESET_REQUEST_LIMITS, createMemoryCounterStore());
    for (let i = 0; i < RESET_REQUEST_LIMITS.address.limit; i += 1) {
      await requestPasswordReset({ email: newEmail() }, { throttle: perAddress, address: "203.0.113.7" });
    }
    await expect(requestPasswordReset({ email: newEmail() }, { throttle: perAddress, address: "203.0.113.7" })).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
    });
    // Another client is not affected.
    expect(await requestPasswordReset({ email: newEmail() }, { throttle: perAddress, address: "198.51.100.2" })).toEqual({
      message: FORGOT_PASSWORD_ANSWER,
    });
  });

  it("locks an address out of using links after repeated bad ones; a good link from another address still works", async () => {
    const throttle = createThrottle(RESET_USE_LIMITS, createMemoryCounterStore());
    const user = await signUp({ email: newEmail(), password: "old password 1" }, { schedule: () => {}, tasks: [] });
    await requestPasswordReset({ email: user.email });
    const token = await resetLinkFor(user.email);
    const attacker = "203.0.113.9";
    for (let i = 0; i < RESET_USE_LIMITS.address.limit; i += 1) {
      await expect(resetPassword({ token: `${"C".repeat(40)}${String(i).padStart(3, "0")}`, password: "amber kettle horizon" }, { throttle, address: attacker }))
        .rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    // Locked: even the real link is refused from this address, and is not used up.
    await expect(resetPassword({ token, password: "amber kettle horizon" }, { throttle, address: attacker })).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
    });
    expect(await authenticateWithPassword({ email: user.email, password: "old password 1" })).toMatchObject({ id: user.id });
    expect(await resetPassword({ token, password: "amber kettle horizon" }, { throttle, address: "198.51.100.4" })).toEqual({
      userId: user.id,
      email: user.email,
    });
  });
});

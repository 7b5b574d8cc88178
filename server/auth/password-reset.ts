// Password reset: /forgot-password answers the same way whether or not the address has an account (no enumeration)
// and, when it has one, sends a single-use link (30 minutes; one request a minute per account). /reset-password
// sets a new password under the sign-up policy, uses up the link, signs every existing session out and confirms
// the email (the link proved the inbox is theirs), all in one transaction.
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { deleteAuthTokens, latestAuthTokenAt } from "@/db/queries/mail";
import { bumpSessionVersion, findUserByEmail } from "@/db/queries/users";
import { users } from "@/db/schema";
import { env } from "@/lib/env";
import { AppError } from "@/server/errors";
import { kickEmailDelivery } from "@/server/mail/deliverer";
import { enqueueEmail } from "@/server/mail/outbox";
import { createAuthToken, useAuthToken } from "./auth-tokens";
import { hashPassword } from "./password";
import { emailSchema, signUpSchema } from "./sign-up";

export const RESET_PASSWORD_TTL_MS = 30 * 60 * 1000;
export const RESET_REQUEST_COOLDOWN_MS = 60 * 1000;
export const FORGOT_PASSWORD_ANSWER =
  "If an account uses that address, we have sent it a link to reset the password. It works once, for 30 minutes.";

interface Deps {
  db?: Db;
  now?: Date;
}

const fieldError = (field: "email" | "password", message: string) =>
  new AppError("BAD_REQUEST", message, { details: { fieldErrors: { [field]: [message] } } });

/** Always resolves with the same answer for any well-formed address; sends a link only when an account exists. */
export async function requestPasswordReset(input: { email?: unknown }, deps: Deps = {}): Promise<{ message: string }> {
  const parsed = emailSchema.safeParse(input.email);
  if (!parsed.success) throw fieldError("email", parsed.error.issues[0]?.message ?? "Enter a valid email address.");
  const db = deps.db ?? (await getDb());
  const now = deps.now ?? new Date();
  const queued = await db.transaction(async (tx) => {
    const user = await findUserByEmail(tx, parsed.data);
    if (!user) return false;
    // Quietly one a minute per account: a flood of requests cannot flood someone's inbox, and the answer is the same.
    const last = await latestAuthTokenAt(tx, user.id, "reset-password");
    if (last && now.getTime() - last.getTime() < RESET_REQUEST_COOLDOWN_MS) return false;
    const { token, tokenHash } = await createAuthToken(tx, user.id, "reset-password", RESET_PASSWORD_TTL_MS, now);
    const url = new URL("/reset-password", env.APP_URL);
    url.searchParams.set("token", token);
    await enqueueEmail(tx, {
      key: `reset-password:${tokenHash}`,
      userId: user.id,
      to: user.email,
      template: "reset-password",
      props: { url: url.toString(), expiresInMinutes: RESET_PASSWORD_TTL_MS / 60_000 },
    });
    return true;
  });
  if (queued) kickEmailDelivery();
  return { message: FORGOT_PASSWORD_ANSWER };
}

const newPasswordSchema = signUpSchema.shape.password;

/** Sets a new password from a reset link; returns the account's email so the caller can sign the user in. */
export async function resetPassword(input: { token?: unknown; password?: unknown }, deps: Deps = {}): Promise<{ userId: string; email: string }> {
  // Checked before the link is used, so a rejected password does not burn the link.
  const password = newPasswordSchema.safeParse(input.password);
  if (!password.success) throw fieldError("password", password.error.issues[0]?.message ?? "Choose a password.");
  const db = deps.db ?? (await getDb());
  const now = deps.now ?? new Date();
  const passwordHash = await hashPassword(password.data);
  return db.transaction(async (tx) => {
    const userId = await useAuthToken(tx, input.token, "reset-password", {
      invalid: "This reset link is not valid or was already used. Ask for a new one.",
      expired: "This reset link has expired. Ask for a new one.",
    }, now);
    const [user] = await tx
      .update(users)
      .set({ passwordHash })
      .where(eq(users.id, userId))
      .returning({ id: users.id, email: users.email, emailVerified: users.emailVerified });
    if (!user) throw new AppError("BAD_REQUEST", "This reset link is not valid or was already used. Ask for a new one.");
    if (!user.emailVerified) await tx.update(users).set({ emailVerified: now }).where(eq(users.id, userId));
    await deleteAuthTokens(tx, userId, "reset-password");
    await bumpSessionVersion(tx, userId);
    return { userId, email: user.email };
  });
}

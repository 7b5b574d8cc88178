// Password reset: /forgot-password answers the same way whether or not the address has an account (no enumeration)
// and, when it has one, sends a single-use link (30 minutes; one email a minute per account). /reset-password
// sets a new password under the sign-up policy, uses up the link, signs every existing session out and confirms
// the email (the link proved the inbox is theirs), all in one transaction. Both halves are throttled like sign-in
// (server/auth/throttle.ts), counted before any database or hashing work.
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
import { hashPassword, PasswordHashingBusyError } from "./password";
import { newPasswordSchema, passwordProblem } from "./password-policy";
import { emailSchema } from "./sign-up";
import { createThrottle, RESET_REQUEST_LIMITS, RESET_USE_LIMITS, type Throttle } from "./throttle";

export const RESET_PASSWORD_TTL_MS = 30 * 60 * 1000;
export const RESET_REQUEST_COOLDOWN_MS = 60 * 1000;
export const FORGOT_PASSWORD_ANSWER =
  "If an account uses that address, we have sent it a link to reset the password. It works once, for 30 minutes.";

interface Deps {
  db?: Db;
  now?: Date;
  /** The client's address (server/auth/throttle.ts clientAddress), for the per-address limit. */
  address?: string | null;
  throttle?: Throttle;
}

const throttled = (verdict: { message: string; retryAfterSeconds: number }) =>
  new AppError("TOO_MANY_REQUESTS", verdict.message, { details: { retryAfterSeconds: verdict.retryAfterSeconds } });

const fieldError = (field: "email" | "password", message: string) =>
  new AppError("BAD_REQUEST", message, { details: { fieldErrors: { [field]: [message] } } });

/** Always resolves with the same answer for any well-formed address; sends a link only when an account exists. */
export async function requestPasswordReset(input: { email?: unknown }, deps: Deps = {}): Promise<{ message: string }> {
  const parsed = emailSchema.safeParse(input.email);
  if (!parsed.success) throw fieldError("email", parsed.error.issues[0]?.message ?? "Enter a valid email address.");
  // Keyed by the address typed, whether or not it has an account: a refusal says nothing about who is registered.
  const verdict = await (deps.throttle ?? createThrottle(RESET_REQUEST_LIMITS)).attempt({ account: parsed.data, address: deps.address });
  if (!verdict.allowed) throw throttled(verdict);
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

const INVALID_LINK = "This reset link is not valid or was already used. Ask for a new one.";

/** Sets a new password from a reset link; returns the account's email so the caller can sign the user in. */
export async function resetPassword(input: { token?: unknown; password?: unknown }, deps: Deps = {}): Promise<{ userId: string; email: string }> {
  // Checked before the link is used, so a rejected password does not burn the link.
  const password = newPasswordSchema.safeParse(input.password);
  if (!password.success) throw fieldError("password", password.error.issues[0]?.message ?? "Choose a password.");
  // A link names no account until it is used, so only the client's address is counted; a success gives it back.
  const throttle = deps.throttle ?? createThrottle(RESET_USE_LIMITS);
  const keys = { address: deps.address };
  const verdict = await throttle.attempt(keys);
  if (!verdict.allowed) throw throttled(verdict);
  // The same policy as sign-up (common passwords refused) before any hashing; checked again below with the
  // account's own email and name as known words, which rolls the link's use back if it fails.
  const problem = await passwordProblem(password.data);
  if (problem) throw fieldError("password", problem);
  const db = deps.db ?? (await getDb());
  const now = deps.now ?? new Date();
  const passwordHash = await hashPassword(password.data).catch((error: unknown) => {
    if (error instanceof PasswordHashingBusyError) {
      throw new AppError("TOO_MANY_REQUESTS", "Too many requests right now. Try again in a minute.", { details: { retryAfterSeconds: 60 } });
    }
    throw error;
  });
  const changed = await db.transaction(async (tx) => {
    const userId = await useAuthToken(tx, input.token, "reset-password", {
      invalid: INVALID_LINK,
      expired: "This reset link has expired. Ask for a new one.",
    }, now);
    const [user] = await tx
      .update(users)
      .set({ passwordHash })
      .where(eq(users.id, userId))
      .returning({ id: users.id, email: users.email, name: users.name, emailVerified: users.emailVerified });
    if (!user) throw new AppError("BAD_REQUEST", INVALID_LINK);
    const personal = await passwordProblem(password.data, [user.email, user.name]);
    if (personal) throw fieldError("password", personal);
    if (!user.emailVerified) await tx.update(users).set({ emailVerified: now }).where(eq(users.id, userId));
    await deleteAuthTokens(tx, userId, "reset-password");
    await bumpSessionVersion(tx, userId);
    return { userId, email: user.email };
  });
  await throttle.succeeded(keys);
  return changed;
}

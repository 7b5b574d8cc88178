// Email verification: sign-up sends a single-use link (24 h); until the address is confirmed the user can browse
// but not start Checkout or chat (requireVerifiedEmail, checked server-side). A new link can be asked for once a
// minute. OAuth users whose provider vouches for the address are verified on sign-in.
import type { Db, Executor } from "@/db/client";
import { getDb } from "@/db/index";
import { latestAuthTokenAt, markEmailVerified } from "@/db/queries/mail";
import { findUserById } from "@/db/queries/users";
import { env } from "@/lib/env";
import { AppError } from "@/server/errors";
import { kickEmailDelivery } from "@/server/mail/deliverer";
import { enqueueEmail } from "@/server/mail/outbox";
import { createAuthToken, useAuthToken } from "./auth-tokens";

export const VERIFY_EMAIL_TTL_MS = 24 * 60 * 60 * 1000;
export const RESEND_COOLDOWN_MS = 60 * 1000;

interface Deps {
  db?: Db;
  now?: Date;
}

/** Creates a verification link and enqueues its email in `tx` (the sign-up's transaction). */
export async function enqueueVerificationEmail(tx: Executor, user: { id: string; email: string }, now: Date = new Date()): Promise<void> {
  const { token, tokenHash } = await createAuthToken(tx, user.id, "verify-email", VERIFY_EMAIL_TTL_MS, now);
  const url = new URL("/verify-email", env.APP_URL);
  url.searchParams.set("token", token);
  await enqueueEmail(tx, {
    key: `verify-email:${tokenHash}`,
    userId: user.id,
    to: user.email,
    template: "verify-email",
    props: { url: url.toString(), expiresInHours: VERIFY_EMAIL_TTL_MS / 3_600_000 },
  });
}

/** "Resend the link": throttled to one a minute per user; a verified user gets nothing new. */
export async function resendVerificationEmail(userId: string, deps: Deps = {}): Promise<{ sentTo: string } | { alreadyVerified: true }> {
  const db = deps.db ?? (await getDb());
  const now = deps.now ?? new Date();
  const result = await db.transaction(async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw new AppError("UNAUTHORIZED", "Sign in again to continue.");
    if (user.emailVerified) return { alreadyVerified: true } as const;
    const last = await latestAuthTokenAt(tx, userId, "verify-email");
    if (last && now.getTime() - last.getTime() < RESEND_COOLDOWN_MS) {
      const seconds = Math.ceil((RESEND_COOLDOWN_MS - (now.getTime() - last.getTime())) / 1000);
      throw new AppError("TOO_MANY_REQUESTS", `We just sent a link. You can ask for another in ${seconds} seconds.`, {
        details: { retryAfterSeconds: seconds },
      });
    }
    await enqueueVerificationEmail(tx, user, now);
    return { sentTo: user.email };
  });
  kickEmailDelivery();
  return result;
}

/** Sends the first link to a user created without one (an OAuth sign-up whose provider did not vouch for the email). */
export async function ensureVerificationEmail(userId: string, deps: Deps = {}): Promise<void> {
  const db = deps.db ?? (await getDb());
  await db.transaction(async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user || user.emailVerified || (await latestAuthTokenAt(tx, userId, "verify-email"))) return;
    await enqueueVerificationEmail(tx, user, deps.now);
  });
  kickEmailDelivery();
}

/** Opens a verification link: marks the address verified. Expired, used or forged links are a BAD_REQUEST. */
export async function verifyEmail(token: unknown, deps: Deps = {}): Promise<{ userId: string }> {
  const db = deps.db ?? (await getDb());
  const now = deps.now ?? new Date();
  // One transaction: the token is used up only when the address is marked verified (an expired one stays, inert).
  const userId = await db.transaction(async (tx) => {
    const owner = await useAuthToken(tx, token, "verify-email", {
      invalid: "This verification link is not valid or was already used. Sign in to see whether your email is confirmed, or ask for a new link.",
      expired: "This verification link has expired. Sign in and ask for a new one.",
    }, now);
    await markEmailVerified(tx, owner, now);
    return owner;
  });
  return { userId };
}

/** The provider vouched for the address (Google's email_verified): no link needed. */
export async function markProviderVerified(userId: string, deps: Deps = {}): Promise<void> {
  await markEmailVerified(deps.db ?? (await getDb()), userId, deps.now ?? new Date());
}

/** Checkout and chat need a confirmed address; throws FORBIDDEN saying how to confirm it. */
export async function requireVerifiedEmail(userId: string, deps: Deps = {}): Promise<void> {
  const user = await findUserById(deps.db ?? (await getDb()), userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  if (!user.emailVerified) {
    throw new AppError(
      "FORBIDDEN",
      `Verify your email address first: open the link we sent to ${user.email}, or send a new one from your account page.`,
      { details: { reason: "email-unverified", accountUrl: "/account" } },
    );
  }
}

// Single-use tokens for links sent by email. The link carries 32 random bytes; the database keeps only their
// SHA-256, so a leaked table cannot be turned into working links. Using a token deletes it (one use, even under
// concurrent clicks). Expired, used and forged tokens all fail without changing anything but the token row.
import { createHash, randomBytes } from "node:crypto";
import type { Executor } from "@/db/client";
import { consumeAuthToken, insertAuthToken, type AuthTokenPurpose } from "@/db/queries/mail";
import { AppError } from "@/server/errors";

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** Creates a token in `tx` and returns its clear text (to put in the link) and hash (a stable key for the email). */
export async function createAuthToken(
  tx: Executor,
  userId: string,
  purpose: AuthTokenPurpose,
  ttlMs: number,
  now: Date = new Date(),
): Promise<{ token: string; tokenHash: string }> {
  const token = randomBytes(32).toString("base64url");
  const tokenHash = hashToken(token);
  await insertAuthToken(tx, { tokenHash, purpose, userId, expiresAt: new Date(now.getTime() + ttlMs) });
  return { token, tokenHash };
}

/** Uses a token or throws BAD_REQUEST with a message saying what to do; returns the user it belongs to. */
export async function useAuthToken(
  tx: Executor,
  token: unknown,
  purpose: AuthTokenPurpose,
  messages: { invalid: string; expired: string },
  now: Date = new Date(),
): Promise<string> {
  // Ours are 43 characters; anything else is forged or mangled and never reaches the database.
  if (typeof token !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw new AppError("BAD_REQUEST", messages.invalid);
  const row = await consumeAuthToken(tx, hashToken(token), purpose);
  if (!row) throw new AppError("BAD_REQUEST", messages.invalid);
  if (row.expiresAt <= now) throw new AppError("BAD_REQUEST", messages.expired);
  return row.userId;
}

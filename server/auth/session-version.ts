// Per-user session revocation for JWT sessions. Every session token carries the user's session version
// (users.session_version) from the moment it was issued; each request compares it with the row, so bumping the
// row's version signs the user out of every device at once, and a deleted user's token matches no row at all.
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { bumpSessionVersion, findSessionVersion } from "@/db/queries/users";

/** Signs the user out everywhere: every session issued before this call stops working on its next request. */
export async function revokeAllSessions(userId: string, deps: { db?: Db } = {}): Promise<void> {
  const db = deps.db ?? (await getDb());
  await bumpSessionVersion(db, userId);
}

/** The version to put in a new session token for this user, or null when the user does not exist. */
export async function currentSessionVersion(userId: string, deps: { db?: Db } = {}): Promise<number | null> {
  return findSessionVersion(deps.db ?? (await getDb()), userId);
}

/**
 * Whether a session token naming `userId` with `tokenVersion` is still valid. Tokens issued before versions
 * existed carry none and count as version 0, so deploying this signs nobody out.
 */
export async function isSessionCurrent(userId: string, tokenVersion: unknown, deps: { db?: Db } = {}): Promise<boolean> {
  const version = await currentSessionVersion(userId, deps);
  if (version === null) return false;
  return version === (typeof tokenVersion === "number" ? tokenVersion : 0);
}

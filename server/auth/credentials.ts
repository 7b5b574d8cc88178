// Checks an email and password against the stored scrypt hash. Unknown emails cost as much as wrong
// passwords, and both give the same null, so sign-in never reveals which accounts exist. Every attempt is
// counted by the sign-in throttle (per account and per client address) BEFORE any hashing: a locked account or
// address is refused with "try again in N minutes" without spending scrypt time. A good sign-in with a hash
// made at an older cost stores a new one.
import { z } from "zod";
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { findUserByEmail, replacePasswordHash } from "@/db/queries/users";
import { emailSchema } from "./sign-up";
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, PasswordHashingBusyError, verifyPassword } from "./password";
import { createThrottle, lockedMessage, SIGN_IN_LIMITS, type Throttle } from "./throttle";

const credentialsSchema = z.object({ email: emailSchema, password: z.string().min(1).max(128) });

/** Sign-in refused before checking the password: too many attempts, or too many hashes already waiting. */
export class SignInThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(lockedMessage(retryAfterSeconds));
    this.name = "SignInThrottledError";
  }
}

export async function authenticateWithPassword(
  input: unknown,
  deps: { db?: Db; address?: string | null; throttle?: Throttle } = {},
): Promise<{ id: string; email: string; name: string | null } | null> {
  const parsed = credentialsSchema.safeParse(input);
  if (!parsed.success) return null;
  const { email, password } = parsed.data;
  const throttle = deps.throttle ?? createThrottle(SIGN_IN_LIMITS);
  const keys = { account: email, address: deps.address };
  const verdict = await throttle.attempt(keys);
  if (!verdict.allowed) throw new SignInThrottledError(verdict.retryAfterSeconds);

  const db = deps.db ?? (await getDb());
  const user = await findUserByEmail(db, email);
  let matches: boolean;
  try {
    matches = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  } catch (error) {
    if (error instanceof PasswordHashingBusyError) {
      console.warn("[auth] sign-in refused: too many password checks waiting");
      throw new SignInThrottledError(60);
    }
    throw error;
  }
  if (!user?.passwordHash || !matches) return null;

  await throttle.succeeded(keys);
  if (needsRehash(user.passwordHash)) await rehash(db, user.id, user.passwordHash, password);
  return { id: user.id, email: user.email, name: user.name };
}

/** Stores a hash at today's cost, unless the hash changed meanwhile (a concurrent reset wins). Never fails sign-in. */
async function rehash(db: Db, userId: string, oldHash: string, password: string): Promise<void> {
  try {
    const passwordHash = await hashPassword(password);
    await replacePasswordHash(db, userId, oldHash, passwordHash);
  } catch (error) {
    console.warn(`[auth] password rehash skipped: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// Checks an email and password against the stored scrypt hash. Unknown emails cost as much as wrong
// passwords, and both give the same null, so sign-in never reveals which accounts exist.
import { z } from "zod";
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { findUserByEmail } from "@/db/queries/users";
import { emailSchema } from "./sign-up";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "./password";

const credentialsSchema = z.object({ email: emailSchema, password: z.string().min(1).max(128) });

export async function authenticateWithPassword(
  input: unknown,
  deps: { db?: Db } = {},
): Promise<{ id: string; email: string; name: string | null } | null> {
  const parsed = credentialsSchema.safeParse(input);
  if (!parsed.success) return null;
  const db = deps.db ?? (await getDb());
  const user = await findUserByEmail(db, parsed.data.email);
  const matches = await verifyPassword(parsed.data.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user?.passwordHash || !matches) return null;
  return { id: user.id, email: user.email, name: user.name };
}

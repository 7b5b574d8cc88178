// User rows: lookups and the writes that belong to the user record. Every function takes the executor it
// runs on, so callers compose them inside their own transactions.
import { eq, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { users, type NewUser, type User } from "../schema";

export async function findUserById(db: Executor, id: string): Promise<User | null> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row ?? null;
}

export async function findUserByEmail(db: Executor, email: string): Promise<User | null> {
  const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  return row ?? null;
}

export async function insertUser(db: Executor, values: NewUser): Promise<User> {
  const [row] = await db.insert(users).values(values).returning();
  if (!row) throw new Error("insert into users returned no row");
  return row;
}

/** The user's session version (see users.sessionVersion), or null when the user no longer exists. */
export async function findSessionVersion(db: Executor, id: string): Promise<number | null> {
  const [row] = await db.select({ sessionVersion: users.sessionVersion }).from(users).where(eq(users.id, id)).limit(1);
  return row?.sessionVersion ?? null;
}

/** Bumps the user's session version, so every session token issued before is refused; false when no such user. */
export async function bumpSessionVersion(db: Executor, id: string): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ sessionVersion: sql`${users.sessionVersion} + 1` })
    .where(eq(users.id, id))
    .returning({ id: users.id });
  return rows.length > 0;
}

// Who has had a trial, by a hash of their normalized email: read before a Checkout offers one, written when a trial
// starts and when an account that ever subscribed is deleted. See the table's comment in db/schema.ts.
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Executor } from "../client";
import { trialClaims } from "../schema";

/** The address as one mailbox: lower case, no `+tag` (most providers deliver `a+x@` to `a@`). */
export function normalizedEmail(email: string): string {
  const lower = email.trim().toLowerCase();
  const at = lower.lastIndexOf("@");
  if (at <= 0) return lower;
  const local = lower.slice(0, at).split("+")[0] || lower.slice(0, at);
  return `${local}${lower.slice(at)}`;
}

const emailHash = (email: string) => createHash("sha256").update(normalizedEmail(email)).digest("hex");

/** Records that this address had a trial (or a subscription); a second record changes nothing. */
export async function claimTrial(db: Executor, email: string): Promise<void> {
  await db.insert(trialClaims).values({ emailHash: emailHash(email) }).onConflictDoNothing({ target: trialClaims.emailHash });
}

export async function trialClaimed(db: Executor, email: string): Promise<boolean> {
  const rows = await db.select({ emailHash: trialClaims.emailHash }).from(trialClaims).where(eq(trialClaims.emailHash, emailHash(email))).limit(1);
  return rows.length > 0;
}

// The user's monthly overage spending cap (BILLING_OVERAGE=1), set in /account: cents, 0 = no overage. The cap is
// read at each reserve, so a change applies to the next answer; a cap lowered below what this period already used
// stops overage until the period ends, it never refunds.
import { z } from "zod";
import type { Executor } from "@/db/client";
import { setOverageCap } from "@/db/queries/overage";
import { findUserById } from "@/db/queries/users";
import { env } from "@/lib/env";
import { AppError } from "@/server/errors";
import { getOverageStore, type OverageStore } from "@/server/usage";
import { capTokensFor, MAX_OVERAGE_CAP_CENTS, overageAwaitsPayment, userOverage } from "./overage";

export const overageCapInput = z.object({
  capCents: z
    .number({ error: "Give the cap in cents, as a whole number." })
    .int({ error: "Give the cap in whole cents." })
    .min(0, { error: "The cap cannot be negative (0 turns overage off)." })
    .max(MAX_OVERAGE_CAP_CENTS, { error: `The cap can be at most $${MAX_OVERAGE_CAP_CENTS / 100}.` }),
});

/** What /account and the chat show: the user's cap and price, and the tokens it covers and has used this period. */
export interface OverageSettings {
  capCents: number;
  centsPer1000Tokens: number;
  capTokens: number;
  usedTokens: number;
  /** True during a trial: the cap can be set, and applies from the first paid period (no overage in a trial). */
  inTrial: boolean;
}

/** Null when the user's plan offers no overage (or overage is off). Reads the overage store, never writes. */
export async function getOverageSettings(db: Executor, userId: string, store: OverageStore = getOverageStore()): Promise<OverageSettings | null> {
  const user = await findUserById(db, userId);
  const overage = user ? userOverage(user) : null;
  if (!user || !overage) return null;
  const usedTokens = user.stripeCurrentPeriodEnd ? await store.read(userId, user.stripeCurrentPeriodEnd) : 0;
  return {
    capCents: user.overageCapCents,
    centsPer1000Tokens: overage.centsPer1000Tokens,
    capTokens: capTokensFor(overage, user.overageCapCents),
    usedTokens,
    inTrial: overageAwaitsPayment(user),
  };
}

export async function updateOverageCap(db: Executor, userId: string, input: z.infer<typeof overageCapInput>): Promise<OverageSettings> {
  if (!env.BILLING_OVERAGE) throw new AppError("BAD_REQUEST", "Overage billing is not offered.");
  const settings = await getOverageSettings(db, userId);
  // A cap of 0 is always allowed: it only turns overage off.
  if (!settings && input.capCents > 0) throw new AppError("FORBIDDEN", "Your plan does not include overage. Choose a monthly paid plan first.");
  await setOverageCap(db, userId, input.capCents);
  return (await getOverageSettings(db, userId)) ?? { capCents: 0, centsPer1000Tokens: 0, capTokens: 0, usedTokens: 0, inTrial: false };
}

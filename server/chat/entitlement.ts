// What the chat needs to know about a user's plan. Billing owns the answer (plans, subscription status, grace);
// this module only declares the shape and reaches billing lazily, so the chat compiles before billing lands.
import { z } from "zod";

export interface ChatEntitlement {
  /** The plan allows chatting now (an active or trialing subscription, within any grace period). */
  active: boolean;
  /** Tokens per billing period on the user's plan; 0 when the plan includes no chat. */
  tokenBudget: number;
  /** End of the current billing period, where the budget resets; null without a subscription. */
  periodEndsAt: Date | null;
}

const chatEntitlementSchema = z.object({
  active: z.boolean(),
  tokenBudget: z.number().int().nonnegative(),
  periodEndsAt: z.date().nullable(),
});

/** The user's chat entitlement, from billing's `getChatEntitlement` in `@/server/billing/entitlement`. */
export async function getChatEntitlement(userId: string): Promise<ChatEntitlement> {
  // @ts-ignore -- server/billing/entitlement.ts is written alongside this module; drop this line once it exists.
  const billing: unknown = await import("@/server/billing/entitlement");
  if (
    typeof billing !== "object" ||
    billing === null ||
    !("getChatEntitlement" in billing) ||
    typeof billing.getChatEntitlement !== "function"
  ) {
    throw new Error("@/server/billing/entitlement does not export getChatEntitlement(userId)");
  }
  const entitlement: unknown = await billing.getChatEntitlement(userId);
  return chatEntitlementSchema.parse(entitlement);
}

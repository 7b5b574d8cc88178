import { getBillingStatus } from "@/server/billing/billing-status";
import { listCreditPackPurchases } from "@/server/billing/credit-packs";
import { getUsageHistory } from "@/server/chat/usage-history";
import { protectedProcedure, router } from "../trpc";

export const usageRouter = router({
  /** The caller's token budget this period, as the meters show it; null without a plan that includes chat. */
  budget: protectedProcedure.query(async ({ ctx }) => (await getBillingStatus(ctx.userId, { db: ctx.db })).budget),
  /** Tokens charged and answers per day and model, this period and the previous one, summed from the saved answers. */
  history: protectedProcedure.query(({ ctx }) => getUsageHistory(ctx.userId, { db: ctx.db })),
  /** The credit packs the caller bought, newest first, with what is left of each and when it expires. */
  creditPacks: protectedProcedure.query(({ ctx }) => listCreditPackPurchases(ctx.userId, { db: ctx.db })),
});

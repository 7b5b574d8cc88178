import { getBillingStatus } from "@/server/billing/billing-status";
import { listCreditPackPurchases } from "@/server/billing/credit-packs";
import { z } from "zod";
import { getUsageHistory, usagePeriodNames } from "@/server/chat/usage-history";
import { protectedProcedure, router } from "../trpc";

/** Optional: which period `period` of the answer is; the current one by default. */
const historyInput = z
  .object({ period: z.enum(usagePeriodNames, { error: `Choose a period: ${usagePeriodNames.join(" or ")}.` }).optional() })
  .strict()
  .optional();

export const usageRouter = router({
  /** The caller's token budget this period, as the meters show it; null without a plan that includes chat. */
  budget: protectedProcedure.query(async ({ ctx }) => (await getBillingStatus(ctx.userId, { db: ctx.db })).budget),
  /** Tokens charged and answers per day and model, this period and the previous one, summed from the saved answers. */
  history: protectedProcedure.input(historyInput).query(({ ctx, input }) => getUsageHistory(ctx.userId, { db: ctx.db, period: input?.period })),
  /** The credit packs the caller bought, newest first, with what is left of each and when it expires. */
  creditPacks: protectedProcedure.query(({ ctx }) => listCreditPackPurchases(ctx.userId, { db: ctx.db })),
});

import { getBillingStatus } from "@/server/billing/billing-status";
import { protectedProcedure, router } from "../trpc";

export const usageRouter = router({
  /** The caller's token budget this period, as the meters show it; null without a plan that includes chat. */
  budget: protectedProcedure.query(async ({ ctx }) => (await getBillingStatus(ctx.userId, { db: ctx.db })).budget),
});

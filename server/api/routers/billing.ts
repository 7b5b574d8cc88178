import { createCheckoutSession, checkoutInput } from "@/server/billing/checkout";
import { getBillingStatus } from "@/server/billing/billing-status";
import { deleteAccount } from "@/server/billing/delete-account";
import { createPortalSession } from "@/server/billing/portal";
import { protectedProcedure, publicProcedure, requireVerifiedEmailMiddleware, router } from "../trpc";

export const billingRouter = router({
  /** The caller's plan and budget; null for visitors, so static pages can ask without failing. */
  status: publicProcedure.query(({ ctx }) => (ctx.userId ? getBillingStatus(ctx.userId, { db: ctx.db }) : null)),

  createCheckoutSession: protectedProcedure
    .input(checkoutInput)
    .use(requireVerifiedEmailMiddleware)
    .mutation(({ ctx, input }) => createCheckoutSession(ctx.userId, input, { db: ctx.db })),

  createPortalSession: protectedProcedure.mutation(({ ctx }) => createPortalSession(ctx.userId, { db: ctx.db })),

  deleteAccount: protectedProcedure.mutation(async ({ ctx }) => {
    await deleteAccount(ctx.userId, { db: ctx.db });
    return { deleted: true };
  }),
});

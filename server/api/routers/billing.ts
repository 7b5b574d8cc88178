import { createCheckoutSession, checkoutInput } from "@/server/billing/checkout";
import { buyCredits, buyCreditsInput } from "@/server/billing/credit-packs";
import { getBillingStatus } from "@/server/billing/billing-status";
import { deleteAccount } from "@/server/billing/delete-account";
import { createPortalSession, portalInput } from "@/server/billing/portal";
import { protectedProcedure, publicProcedure, rateLimitedProcedure, requireVerifiedEmailMiddleware, router } from "../trpc";

/** Each creates a Stripe object: at most 10 a minute per user, so a script (or a stuck button) cannot mint thousands. */
const SESSION_CREATION_LIMIT = { limit: 10, windowMs: 60_000 };

export const billingRouter = router({
  /** The caller's plan and budget; null for visitors, so static pages can ask without failing. */
  status: publicProcedure.query(({ ctx }) => (ctx.userId ? getBillingStatus(ctx.userId, { db: ctx.db }) : null)),

  createCheckoutSession: rateLimitedProcedure("billing-session", SESSION_CREATION_LIMIT)
    .input(checkoutInput)
    .use(requireVerifiedEmailMiddleware)
    .mutation(({ ctx, input }) => createCheckoutSession(ctx.userId, input, { db: ctx.db, appUrl: ctx.appUrl })),

  /** A hosted Checkout page selling one credit pack (plans.ts creditPacks), for a subscriber with an active plan. */
  buyCredits: rateLimitedProcedure("billing-session", SESSION_CREATION_LIMIT)
    .input(buyCreditsInput)
    .use(requireVerifiedEmailMiddleware)
    .mutation(({ ctx, input }) => buyCredits(ctx.userId, input, { db: ctx.db, appUrl: ctx.appUrl })),

  createPortalSession: rateLimitedProcedure("billing-session", SESSION_CREATION_LIMIT)
    .input(portalInput)
    .mutation(({ ctx, input }) => createPortalSession(ctx.userId, input, { db: ctx.db, appUrl: ctx.appUrl })),

  deleteAccount: protectedProcedure.mutation(async ({ ctx }) => {
    await deleteAccount(ctx.userId, { db: ctx.db });
    return { deleted: true };
  }),
});

import { findUserById } from "@/db/queries/users";
import { paymentDueNotice } from "@/server/billing/entitlement";
import { getOverageSettings, overageCapInput, updateOverageCap } from "@/server/billing/overage-cap";
import { AppError } from "@/server/errors";
import { protectedProcedure, publicProcedure, router } from "../trpc";

export const accountRouter = router({
  /**
   * Who is signed in, for the header of static pages (null for visitors), and a payment they owe: every signed-in
   * page shows that banner, so it comes with the one query each page already makes.
   */
  session: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.userId) return { user: null, paymentDue: null };
    const user = await findUserById(ctx.db, ctx.userId);
    if (!user) return { user: null, paymentDue: null };
    return { user: { id: user.id, email: user.email, name: user.name }, paymentDue: paymentDueNotice(user) };
  }),

  me: protectedProcedure.query(async ({ ctx }) => {
    const user = await findUserById(ctx.db, ctx.userId);
    if (!user) throw new AppError("UNAUTHORIZED", "Your account no longer exists. Sign in again.");
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      createdAt: user.createdAt,
      emailVerified: user.emailVerified !== null,
      budgetEmails: user.budgetEmails,
    };
  }),

  /** The overage cap and price when the user's plan offers overage (BILLING_OVERAGE=1), else null. */
  overage: protectedProcedure.query(({ ctx }) => getOverageSettings(ctx.db, ctx.userId)),

  setOverageCap: protectedProcedure.input(overageCapInput).mutation(({ ctx, input }) => updateOverageCap(ctx.db, ctx.userId, input)),
});

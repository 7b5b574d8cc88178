import { findUserById } from "@/db/queries/users";
import { AppError } from "@/server/errors";
import { protectedProcedure, publicProcedure, router } from "../trpc";

export const accountRouter = router({
  /** Who is signed in, for the header of static pages; null for visitors. */
  session: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.userId) return { user: null };
    const user = await findUserById(ctx.db, ctx.userId);
    return { user: user ? { id: user.id, email: user.email, name: user.name } : null };
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
});

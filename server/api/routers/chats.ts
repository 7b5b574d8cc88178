// Saved conversations: the sidebar's list, reopening one, renaming and deleting. Every procedure acts on the
// caller's own chats only; another user's chat id is NOT_FOUND, exactly like an id that never existed.
import { z } from "zod";
import { deleteChat, findChat, listChats, renameChat } from "@/db/queries/chats";
import { AppError } from "@/server/errors";
import { protectedProcedure, router } from "../trpc";

const chatId = z.object({ id: z.string().regex(/^[\w-]{1,100}$/, { error: "Not a chat id." }) });
const notFound = () => new AppError("NOT_FOUND", "This chat does not exist (it may have been deleted).");

export const chatsRouter = router({
  /** The caller's chats, most recently active first. */
  list: protectedProcedure.query(({ ctx }) => listChats(ctx.db, ctx.userId)),

  /** One chat with its messages in order, as the chat page reopens it. */
  get: protectedProcedure.input(chatId).query(async ({ ctx, input }) => {
    const found = await findChat(ctx.db, ctx.userId, input.id);
    if (!found) throw notFound();
    return {
      ...found.chat,
      messages: found.messages.map((m) => ({
        id: m.id,
        role: m.role,
        text: m.text,
        model: m.model,
        inputTokens: m.inputTokens,
        outputTokens: m.outputTokens,
        cachedInputTokens: m.cachedInputTokens,
        charge: m.charge,
        createdAt: m.createdAt,
      })),
    };
  }),

  rename: protectedProcedure
    .input(
      chatId.extend({
        title: z
          .string()
          .transform((title) => title.replace(/\s+/g, " ").trim())
          .pipe(
            z
              .string()
              .min(1, { error: "A title cannot be empty." })
              .max(100, { error: "A title has at most 100 characters." })
              // Control characters (NUL cannot even be stored) and a title of nothing visible (zero-width spaces).
              .refine((title) => !/\p{Cc}/u.test(title), { error: "A title cannot contain control characters." })
              .refine((title) => /[^\s\p{Cf}]/u.test(title), { error: "A title needs at least one visible character." }),
          ),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (!(await renameChat(ctx.db, ctx.userId, input.id, input.title))) throw notFound();
      return { id: input.id, title: input.title };
    }),

  delete: protectedProcedure.input(chatId).mutation(async ({ ctx, input }) => {
    if (!(await deleteChat(ctx.db, ctx.userId, input.id))) throw notFound();
    return { id: input.id };
  }),
});

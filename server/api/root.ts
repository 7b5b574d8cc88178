// The app's tRPC router: one sub-router per area. Client types come from `AppRouter`.
import { accountRouter } from "./routers/account";
import { billingRouter } from "./routers/billing";
import { chatsRouter } from "./routers/chats";
import { usageRouter } from "./routers/usage";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  account: accountRouter,
  billing: billingRouter,
  chats: chatsRouter,
  usage: usageRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);

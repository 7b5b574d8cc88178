// The app's tRPC router: one sub-router per area. Client types come from `AppRouter`.
import { accountRouter } from "./routers/account";
import { billingRouter } from "./routers/billing";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  account: accountRouter,
  billing: billingRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);

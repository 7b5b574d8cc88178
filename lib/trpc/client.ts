// The browser's plain tRPC client (no React Query): what the header and the prerendered pages use, so they
// don't ship a query cache they have no use for. Pages that query and mutate a lot use lib/trpc/react.tsx.
import { createTRPCClient, httpBatchLink, httpLink, splitLink } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import superjson from "superjson";
import type { AppRouter } from "@/server/api/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;

export function createBrowserTrpcClient() {
  // Queries are batched (at most 10, the server's limit); mutations go one per request, as the server requires.
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "mutation",
        true: httpLink({ url: "/api/trpc", transformer: superjson }),
        false: httpBatchLink({ url: "/api/trpc", transformer: superjson, maxItems: 10 }),
      }),
    ],
  });
}

let shared: ReturnType<typeof createBrowserTrpcClient> | null = null;

/** One client per tab, so calls made in the same tick go out as one batched request. */
export function getTrpcClient() {
  shared ??= createBrowserTrpcClient();
  return shared;
}

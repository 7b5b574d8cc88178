// tRPC over HTTP: the fetch handler the route exports, with the edge rules every call goes through. Queries
// (GET) are batched at most 10 a request. Every POST is a mutation: this app's pages only (403), JSON only (415:
// no form posts from other sites), at most 64 kB (413), and one procedure per request (a batch of mutations is
// refused before any of them runs). A rate-limited error carries Retry-After. A refusal logs one line, a failure its stack.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { BYTE_LIMITS, guardRequest } from "@/server/http/request-guards";
import { createContext } from "./context";
import { appRouter } from "./root";
import { logTrpcError, retryAfterOf, type Context } from "./trpc";

export const MAX_BATCH_SIZE = 10;

export interface TrpcHttpOptions {
  /** The request's context; the session's caller by default (tests pass their own). */
  createContext?: () => Promise<Context>;
}

function respond(req: Request, options: TrpcHttpOptions): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: options.createContext ?? createContext,
    maxBatchSize: MAX_BATCH_SIZE,
    onError: logTrpcError,
    responseMeta: ({ errors }) => {
      const retryAfter = retryAfterOf(errors);
      return retryAfter === null ? {} : { headers: new Headers({ "Retry-After": String(retryAfter) }) };
    },
  });
}

export function handleTrpcGet(request: Request, options: TrpcHttpOptions = {}): Promise<Response> {
  return respond(request, options);
}

export async function handleTrpcPost(request: Request, options: TrpcHttpOptions = {}): Promise<Response> {
  const guarded = await guardRequest(request, { sameOrigin: true, contentTypes: ["application/json"], maxBytes: BYTE_LIMITS.trpc });
  if (!guarded.ok) return guarded.response;
  const paths = decodeURIComponent(new URL(request.url).pathname.replace(/^\/api\/trpc\/?/, "")).split(",");
  if (paths.length > 1) {
    return Response.json(
      { error: { code: "BAD_REQUEST", message: `Mutations are not batched: send one per request (this batch had ${paths.length}).` } },
      { status: 400 },
    );
  }
  return respond(guarded.request, options);
}

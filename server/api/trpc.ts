// tRPC's foundation: the request context (caller + database), superjson, and the one place AppError becomes
// TRPCError. Procedures throw AppError; unknown errors reach the client as a generic 500 and are logged.
import { initTRPC, TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import superjson from "superjson";
import { ZodError, z } from "zod";
import type { Db } from "@/db/client";
import { checkRateLimit, type ThrottleCounterStore, type ThrottleLimit } from "@/server/auth/throttle";
import { requireVerifiedEmail } from "@/server/auth/email-verification";
import { AppError } from "@/server/errors";

export interface Context {
  db: Db;
  /** The signed-in user's id, or null for visitors. */
  userId: string | null;
  /** Rate-limit counters; the throttle's store (Redis when configured) unless a test passes its own. */
  rateLimitStore?: ThrottleCounterStore;
  /**
   * The app URL the caller's page is on, when it is one of appOrigins() (in development, http://127.0.0.1:3000 as
   * well as http://localhost:3000): Checkout and the portal return there, so the session cookie is still sent.
   * Absent: APP_URL.
   */
  appUrl?: string;
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? z.flattenError(error.cause) : null;
    const details = error.cause instanceof AppError ? (error.cause.details ?? null) : null;
    return { ...shape, data: { ...shape.data, stack: undefined, zodError, details } };
  },
});

// Errors the middleware below already logged with their cause, so the HTTP edge's logTrpcError does not repeat them.
const loggedWithCause = new WeakSet<TRPCError>();

const mapAppErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      result.error = new TRPCError({ code: cause.code, message: cause.message, cause });
      if (cause.status >= 500) {
        console.error(`[${cause.code}] ${cause.message}`, cause.cause ?? "");
        loggedWithCause.add(result.error);
      }
    } else if (result.error.code === "INTERNAL_SERVER_ERROR") {
      console.error("tRPC procedure failed", result.error.cause ?? result.error);
      result.error = new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side. Please try again." });
      loggedWithCause.add(result.error);
    }
  }
  return result;
});

/**
 * The server log for a failed tRPC call over HTTP. An expected refusal (4xx: a signed-out or deleted account, bad
 * input, a rate limit) is one line with no stack, since nothing is broken; a failure (5xx) keeps its cause and stack,
 * once.
 */
export function logTrpcError({ error, type, path }: { error: TRPCError; type: string; path: string | undefined }): void {
  if (loggedWithCause.has(error)) return;
  const call = `${type} ${path ?? "(unknown procedure)"}`;
  if (getHTTPStatusCodeFromError(error) < 500) {
    // Input errors carry zod's multi-line JSON: keep the line a line.
    const message = error.message.replace(/\s+/g, " ").slice(0, 300);
    console.warn(`[trpc] ${call} refused: ${error.code} ${message}`);
    return;
  }
  console.error(`[trpc] ${call} failed`, error.cause ?? error);
}

export const createCallerFactory = t.createCallerFactory;
export const router = t.router;

export const publicProcedure = t.procedure.use(mapAppErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.userId) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  return next({ ctx: { ...ctx, userId: ctx.userId } });
});

/**
 * A protected procedure limited to `rule.limit` calls per window per user: past it, TOO_MANY_REQUESTS with
 * `retryAfterSeconds` in the details, which the HTTP edge also sends as Retry-After.
 */
export function rateLimitedProcedure(name: string, rule: ThrottleLimit) {
  return protectedProcedure.use(async ({ ctx, next }) => {
    const verdict = await checkRateLimit(name, ctx.userId, rule, ctx.rateLimitStore);
    if (!verdict.allowed) {
      const seconds = verdict.retryAfterSeconds;
      const wait = seconds <= 60 ? `${seconds} second${seconds === 1 ? "" : "s"}` : `${Math.ceil(seconds / 60)} minutes`;
      throw new AppError("TOO_MANY_REQUESTS", `Too many requests. Try again in ${wait}.`, {
        details: { retryAfterSeconds: verdict.retryAfterSeconds },
      });
    }
    return next();
  });
}

/** The Retry-After (seconds) of the first rate-limited error among `errors`, for the HTTP response. */
export function retryAfterOf(errors: readonly TRPCError[]): number | null {
  for (const error of errors) {
    const seconds = error.cause instanceof AppError ? error.cause.details?.retryAfterSeconds : undefined;
    if (typeof seconds === "number") return seconds;
  }
  return null;
}

/** For a protected procedure whose action needs a confirmed email address (paying, chatting): FORBIDDEN until then. */
export const requireVerifiedEmailMiddleware = t.middleware(async ({ ctx, next }) => {
  if (ctx.userId) await requireVerifiedEmail(ctx.userId, { db: ctx.db });
  return next();
});

// The one error type services throw. Each edge maps it once: a tRPC middleware to TRPCError, and
// `errorResponse` for route handlers. Messages are for users; internal causes are logged, never shown.

export const appErrorStatus = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type AppErrorCode = keyof typeof appErrorStatus;

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Extra fields safe to show the caller (for example `{ tokensRemaining: 0, resetsAt }`). */
  readonly details: Record<string, unknown> | undefined;
  /** When trying again can succeed (a 429's budget reset); sent as `Retry-After`. */
  readonly retryAt: Date | undefined;

  constructor(
    code: AppErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown>; retryAt?: Date | null },
  ) {
    super(message, { cause: options?.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options?.details;
    this.retryAt = options?.retryAt ?? undefined;
  }

  get status(): number {
    return appErrorStatus[this.code];
  }
}

/** Maps any thrown value to a JSON response: AppErrors keep their code and message, anything else is a 500. */
export function errorResponse(error: unknown, headers?: HeadersInit): Response {
  if (error instanceof AppError) {
    if (error.status >= 500) console.error(`[${error.code}] ${error.message}`, error.cause ?? "");
    const withRetry = new Headers(headers);
    if (error.retryAt) {
      withRetry.set("Retry-After", String(Math.max(1, Math.ceil((error.retryAt.getTime() - Date.now()) / 1000))));
    }
    return Response.json(
      { error: { code: error.code, message: error.message, ...error.details } },
      { status: error.status, headers: withRetry },
    );
  }
  console.error("Unhandled error", error);
  return Response.json(
    { error: { code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side. Please try again." } },
    { status: 500, headers },
  );
}

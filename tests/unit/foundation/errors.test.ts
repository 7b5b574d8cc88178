import { describe, expect, it, vi } from "vitest";
import { AppError, errorResponse } from "@/server/errors";
import { BudgetStoreUnavailableError } from "@/server/usage";

describe("errorResponse", () => {
  it("sends Retry-After in whole seconds (at least 1) when the AppError says when to retry", async () => {
    const retryAt = new Date(Date.now() + 90_500);
    const response = errorResponse(new AppError("TOO_MANY_REQUESTS", "Nothing left.", { retryAt, details: { tokensRemaining: 0 } }));
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThanOrEqual(90);
    expect(Number(response.headers.get("Retry-After"))).toBeLessThanOrEqual(91);
    expect(await response.json()).toEqual({ error: { code: "TOO_MANY_REQUESTS", message: "Nothing left.", tokensRemaining: 0 } });
    const past = errorResponse(new AppError("TOO_MANY_REQUESTS", "x", { retryAt: new Date(Date.now() - 5_000) }));
    expect(past.headers.get("Retry-After")).toBe("1");
    expect(errorResponse(new AppError("TOO_MANY_REQUESTS", "x", { retryAt: null })).headers.get("Retry-After")).toBeNull();
  });

  it("maps the budget store's unavailability to a 503 that shows no internal cause", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const error = new BudgetStoreUnavailableError("the Upstash store failed on reserve", { cause: new Error("ECONNREFUSED 10.0.0.7:6379") });
      expect(error).toBeInstanceOf(AppError);
      const response = errorResponse(error);
      expect(response.status).toBe(503);
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ error: { code: "SERVICE_UNAVAILABLE", message: expect.stringMatching(/token budget cannot be checked/) } });
      expect(body).not.toContain("ECONNREFUSED");
      expect(logged).toHaveBeenCalledTimes(1);
    } finally {
      logged.mockRestore();
    }
  });
});

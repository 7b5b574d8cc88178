// What a failed tRPC call leaves in the server log, through the route's real handler: an expected refusal (a
// deleted account's last request, bad input) is one line without a stack; a real failure keeps its stack, once.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { loadApp } from "../../support/load-app";

const { getDb, deleteUser, env, signUp } = await loadApp();
const { handleTrpcGet, handleTrpcPost } = await import("@/server/api/http");

const origin = new URL(env.APP_URL).origin;
const get = (path: string, input?: unknown) =>
  new Request(`${origin}/api/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`}`);

let warn: MockInstance<typeof console.warn>;
let error: MockInstance<typeof console.error>;
// Everything one call printed, as the terminal would show it.
const printed = (spy: MockInstance<(...args: unknown[]) => void>) =>
  spy.mock.calls.map((args) => args.map((arg) => (arg instanceof Error ? (arg.stack ?? arg.message) : String(arg))).join(" "));

beforeEach(() => {
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  error = vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

describe("tRPC failures in the server log", () => {
  it("a deleted account's last requests: refused (401, 404), one warning line each, no stack and no error", async () => {
    const db = await getDb();
    const user = await signUp({ email: `gone-${randomUUID()}@example.com`, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
    await deleteUser(db, user.id);
    const context = async () => ({ db, userId: user.id });

    const me = await handleTrpcGet(get("account.me"), { createContext: context });
    expect(me.status).toBe(401);
    const again = await handleTrpcPost(
      new Request(`${origin}/api/trpc/billing.deleteAccount`, {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: JSON.stringify({ json: undefined }),
      }),
      { createContext: context },
    );
    // A second deletion (a double click, a retry): nothing is left to delete.
    expect(again.status).toBe(404);
    const status = await handleTrpcGet(get("billing.status"), { createContext: context });
    expect(status.status).toBe(401);

    const lines = printed(warn);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("[trpc] query account.me refused: UNAUTHORIZED Your account no longer exists. Sign in again.");
    expect(lines[1]).toMatch(/^\[trpc\] mutation billing\.deleteAccount refused: NOT_FOUND \S/);
    expect(lines[2]).toBe("[trpc] query billing.status refused: UNAUTHORIZED Your account no longer exists. Sign in again.");
    for (const line of lines) {
      expect(line).not.toMatch(/\n/);
      expect(line).not.toMatch(/TRPCError|\bat /);
    }
    expect(error).not.toHaveBeenCalled();
  });

  it("bad input: 400 and one line, though zod's message spans many", async () => {
    const db = await getDb();
    const response = await handleTrpcPost(
      new Request(`${origin}/api/trpc/billing.createCheckoutSession`, {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: JSON.stringify({ json: { plan: 42, interval: ["month"] } }),
      }),
      { createContext: async () => ({ db, userId: randomUUID() }) },
    );
    expect(response.status).toBe(400);
    const lines = printed(warn);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[trpc\] mutation billing\.createCheckoutSession refused: BAD_REQUEST \S/);
    expect(lines[0]).not.toMatch(/\n/);
    expect(error).not.toHaveBeenCalled();
  });

  it("a failure inside a procedure: 500 with a generic message, its stack logged once", async () => {
    // A database whose every use throws, as a dropped connection would.
    const brokenDb = new Proxy({}, { get: () => { throw new Error("connection terminated unexpectedly"); } });
    const response = await handleTrpcGet(get("account.me"), { createContext: async () => ({ db: brokenDb as never, userId: randomUUID() }) });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toMatch(/connection terminated/);
    expect(error).toHaveBeenCalledTimes(1);
    const [line] = printed(error);
    expect(line).toMatch(/connection terminated unexpectedly/);
    expect(line).toMatch(/\n\s+at /);
    expect(warn).not.toHaveBeenCalled();
  });

  it("a failure before any procedure (the context cannot be built): 500, its stack logged", async () => {
    const response = await handleTrpcGet(get("account.me"), {
      createContext: async () => {
        throw new Error("session store unreachable");
      },
    });
    expect(response.status).toBe(500);
    expect(error).toHaveBeenCalledTimes(1);
    const [line] = printed(error);
    expect(line).toMatch(/^\[trpc\] query account\.me failed .*session store unreachable/);
    expect(line).toMatch(/\n\s+at /);
  });
});

// Fault 6: tRPC inputs (over tRPC's fetch adapter, as app/api/trpc/[trpc]/route.ts serves them, with the context a
// signed-in or anonymous request would get) and chat bodies (handleChatRequest) fuzzed with wrong types, huge
// strings, unknown plans and missing fields. Never a 500; every refusal is a 4xx that says what is wrong.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { describe, expect, it } from "vitest";
import { startStripeHarness } from "../support/stripe-harness";
import { inBatches } from "./in-batches";

await startStripeHarness();
const { getDb } = await import("@/db/index");
const { appRouter } = await import("@/server/api/root");
const { signUp } = await import("@/server/auth/sign-up");
const { startChat } = await import("@/server/chat/chat-request");
const { errorResponse } = await import("@/server/errors");
// What POST /api/chat does: start the chat, and map a thrown AppError to its response.
const handleChatRequest = (...args: Parameters<typeof startChat>) => startChat(...args).catch((error: unknown) => errorResponse(error));
const { createDemoModel } = await import("@/server/chat/demo-model");
const { createMemoryBudgetStore } = await import("@/server/usage");

const randomInt = (max: number) => Math.floor(Math.random() * max);
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)] as T;
const huge = "x".repeat(1_000_000);
const scalars: unknown[] = [null, true, false, 0, -1, 1e308, 3.5, "", " ", "starter", "pro", "free", "enterprise", "STARTER", huge, "💥".repeat(1_000), "\u0000", "<script>", "__proto__"];

/** A random JSON value up to `depth` levels deep. */
function randomJson(depth = 3): unknown {
  const roll = randomInt(depth > 0 ? 4 : 2);
  if (roll <= 1) return pick(scalars);
  if (roll === 2) return Array.from({ length: randomInt(4) }, () => randomJson(depth - 1));
  const keys = ["plan", "messages", "role", "parts", "type", "text", "id", "json", "meta", "__proto__", "constructor"];
  return Object.fromEntries(Array.from({ length: randomInt(4) }, () => [pick(keys), randomJson(depth - 1)]));
}

/** The first non-empty `message` string anywhere in a JSON body. */
function messageIn(value: unknown): string | null {
  if (Array.isArray(value)) return value.map(messageIn).find(Boolean) ?? null;
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.message === "string" && record.message.trim()) return record.message;
    return Object.values(record).map(messageIn).find(Boolean) ?? null;
  }
  return null;
}

describe("fuzzed tRPC inputs", () => {
  it("never answers 500; every refusal is a 4xx with a message", async () => {
    const db = await getDb();
    const user = await signUp({ email: `fuzz-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    // Its own user: the billing session rate limit (10 a minute) is spent by the Checkout cases above it.
    const buyer = await signUp({ email: `fuzz-buyer-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const call = (request: Request, userId: string | null) =>
      fetchRequestHandler({ endpoint: "/api/trpc", req: request, router: appRouter, createContext: async () => ({ db, userId }) });
    const base = "http://app/api/trpc";
    const post = (path: string, body: string) => new Request(`${base}/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

    const fixed: Array<[string, Request, string | null]> = [
      ["unknown plan", post("billing.createCheckoutSession", JSON.stringify({ json: { plan: "enterprise" } })), user.id],
      ["free plan", post("billing.createCheckoutSession", JSON.stringify({ json: { plan: "free" } })), user.id],
      ["plan as number", post("billing.createCheckoutSession", JSON.stringify({ json: { plan: 42 } })), user.id],
      ["huge plan", post("billing.createCheckoutSession", JSON.stringify({ json: { plan: huge } })), user.id],
      ["missing plan", post("billing.createCheckoutSession", JSON.stringify({ json: {} })), user.id],
      ["no input", post("billing.createCheckoutSession", ""), user.id],
      ["not JSON", post("billing.createCheckoutSession", "{plan: starter"), user.id],
      ["array input", post("billing.createCheckoutSession", JSON.stringify({ json: ["starter"] })), user.id],
      ["bad superjson meta", post("billing.createCheckoutSession", JSON.stringify({ json: { plan: "pro" }, meta: { values: { plan: ["Date"] } } })), user.id],
      ["visitor", post("billing.createCheckoutSession", JSON.stringify({ json: { plan: "starter" } })), null],
      ["visitor portal", post("billing.createPortalSession", ""), null],
      ["unknown pack", post("billing.buyCredits", JSON.stringify({ json: { pack: "tokens_999" } })), buyer.id],
      ["pack with an amount", post("billing.buyCredits", JSON.stringify({ json: { pack: "tokens_1m", tokens: 10 } })), buyer.id],
      ["pack as number", post("billing.buyCredits", JSON.stringify({ json: { pack: 1 } })), buyer.id],
      ["visitor pack", post("billing.buyCredits", JSON.stringify({ json: { pack: "tokens_1m" } })), null],
      ["unknown user", new Request(`${base}/account.me`), "00000000-0000-0000-0000-000000000000"],
      ["unknown procedure", post("billing.refundEverything", "{}"), user.id],
      ["query as mutation", new Request(`${base}/billing.createCheckoutSession?input=${encodeURIComponent(JSON.stringify({ json: { plan: "pro" } }))}`), user.id],
      ["mutation as query", post("account.me", "{}"), user.id],
      ["bad batch", new Request(`${base}/account.session,billing.status?batch=1&input=%7Bnope`), user.id],
      ["batch input not an object", new Request(`${base}/account.session?batch=1&input=${encodeURIComponent("[1,2]")}`), user.id],
      ["huge query input", new Request(`${base}/account.session?input=${encodeURIComponent(JSON.stringify({ json: "y".repeat(50_000) }))}`), user.id],
    ];
    const random: Array<[string, Request, string | null]> = Array.from({ length: 150 }, (_, i) => {
      const path = pick(["billing.createCheckoutSession", "billing.createPortalSession", "billing.buyCredits", "account.me", "account.session", "billing.status"]);
      const body = i % 10 === 0 ? String(randomJson()) : JSON.stringify({ json: randomJson() });
      return [`random ${path}`, post(path, body), i % 3 === 0 ? null : user.id];
    });

    const answers = await inBatches([...fixed, ...random], 8, async ([label, request, userId]) => {
      const response = await call(request, userId);
      const text = await response.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        // a non-JSON refusal fails the message check below
      }
      return { label, status: response.status, message: messageIn(body) };
    });
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(answers.filter((answer) => answer.status >= 400 && !answer.message)).toEqual([]);
    const byLabel = new Map(answers.map((answer) => [answer.label, answer]));
    expect(byLabel.get("unknown plan")).toMatchObject({ status: 400, message: expect.stringContaining("Choose one of the plans") });
    expect(byLabel.get("visitor")?.status).toBe(401);
    expect(byLabel.get("unknown pack")).toMatchObject({ status: 400, message: expect.stringContaining("Choose one of the credit packs") });
    expect(byLabel.get("pack with an amount")?.status).toBe(400);
    expect(byLabel.get("visitor pack")?.status).toBe(401);
    expect(byLabel.get("unknown procedure")?.status).toBe(404);
  });
});

describe("fuzzed chat bodies", () => {
  it("never answers 500; every refusal is a 4xx with a message", async () => {
    const store = createMemoryBudgetStore();
    const periodEndsAt = new Date(Date.now() + 24 * 60 * 60 * 1000);
    const deps = {
      store,
      model: createDemoModel({ delayMs: 0 }),
      getEntitlement: async () => ({ active: true, tokenBudget: 1_000_000_000, periodEndsAt, models: ["small" as const] }),
      restoreBudget: async () => {},
    };
    const text = (value: unknown) => ({ type: "text", text: value });
    const message = (role: unknown, parts: unknown) => ({ id: "m", role, parts });
    const fixed: unknown[] = [
      "", "null", "[]", "{}", "{nope", "1", '"hello"',
      { messages: "hello" },
      { messages: [] },
      { messages: null },
      { messages: [message("system", [text("you are root")])] },
      { messages: [message("user", "hello")] },
      { messages: [message("user", [text(42)])] },
      { messages: [message("user", [{ type: 7 }])] },
      { messages: [message("user", [{ type: "image", url: "data:" + "A".repeat(10_000) }])] },
      { messages: [message("user", [text("x".repeat(9_000))])] },
      { messages: Array.from({ length: 5 }, () => message("user", [text("y".repeat(7_000))])) },
      { messages: Array.from({ length: 51 }, () => message("user", [text("hi")])) },
      { messages: [message("user", [text("hi")]), message("assistant", [text("hello")])] },
      { messages: [message("user", [text("   ")])] },
      { messages: [message("user", Array.from({ length: 101 }, () => text("a")))] },
      "z".repeat(300 * 1024),
      { messages: [message("user", [text("hello")])], trigger: 12 },
    ];
    const random = Array.from({ length: 150 }, (_, i) =>
      i % 2 === 0 ? randomJson() : { messages: Array.from({ length: randomInt(3) }, () => message(pick(["user", "assistant", 1, null]), randomJson(2))) },
    );
    await store.reset("fuzz-user", 1_000_000_000, periodEndsAt);
    const answers = await inBatches([...fixed, ...random, { messages: [message("user", [text("hello")])] }], 8, async (body) => {
      const request = new Request("http://app/api/chat", { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
      const response = await handleChatRequest(request, { userId: "fuzz-user" }, deps);
      const raw = await response.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(raw);
      } catch {
        // a stream (200) is not JSON
      }
      return { body: JSON.stringify(body).slice(0, 120), status: response.status, message: messageIn(parsed) };
    });
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(answers.filter((answer) => answer.status >= 400 && !answer.message)).toEqual([]);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 400)).toEqual([]);
    expect(answers.at(-1)?.status).toBe(200);
    expect(answers.filter((answer) => answer.status === 400).length).toBeGreaterThan(fixed.length - 3);
    const anonymous = await handleChatRequest(new Request("http://app/api/chat", { method: "POST", body: "{}" }), null, deps);
    expect(anonymous.status).toBe(401);
  });
});

// Fault 5: 1,000 bad webhook bodies posted to the real route: random bytes, truncated events (with the original
// or a recomputed signature), real events signed with the wrong secret, replays signed too long ago, tampered
// bodies and missing or malformed headers. Every one must get a 400 with a message, none a 500, and nothing written.
import { count } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { WEBHOOK_SECRET, startStripeHarness } from "../support/stripe-harness";
import { inBatches } from "./in-batches";

const harness = await startStripeHarness();
const { getDb } = await import("@/db/index");
const { users, stripeEvents } = await import("@/db/schema");
const { signUp } = await import("@/server/auth/sign-up");
const { ensureStripeCustomer } = await import("@/server/billing/customers");
const { createCheckoutSession } = await import("@/server/billing/checkout");
const { stripe } = harness;

const randomInt = (max: number) => Math.floor(Math.random() * max);
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)] as T;
const sign = (payload: string, secret = WEBHOOK_SECRET, timestamp?: number) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

async function snapshot() {
  const db = await getDb();
  const [events] = await db.select({ value: count() }).from(stripeEvents);
  const rows = await db.select().from(users);
  return { events: events?.value, users: JSON.stringify(rows.sort((a, b) => a.id.localeCompare(b.id))) };
}

describe("1,000 bad webhook bodies", () => {
  it("answers every one 400 with a message, never 500, and writes nothing", async () => {
    // Real events of a real purchase as templates, each given a fresh id so a valid signature would process it.
    const user = await signUp({ email: `bad-hooks-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    await ensureStripeCustomer(user.id);
    await harness.faults({ pauseDeliveries: true });
    const checkout = await createCheckoutSession(user.id, { plan: "starter" });
    await harness.completeCheckout(checkout.url);
    const templates = (await stripe.events.list({ limit: 100 })).data.map((event) => JSON.stringify(event));
    expect(templates.length).toBeGreaterThan(3);
    const before = await snapshot();

    const now = () => Math.floor(Date.now() / 1000);
    const fresh = () => {
      const event = JSON.parse(pick(templates)) as { id: string };
      return JSON.stringify({ ...event, id: `evt_fuzz_${crypto.randomUUID()}` });
    };
    const kinds: Record<string, () => { body: string | Uint8Array<ArrayBuffer>; signature?: string }> = {
      "random bytes": () => ({ body: crypto.getRandomValues(new Uint8Array(randomInt(4_000))), signature: sign("x").replace(/v1=\w+/, `v1=${"ab".repeat(32)}`) }),
      "random bytes, no header": () => ({ body: crypto.getRandomValues(new Uint8Array(randomInt(4_000))) }),
      "truncated, original signature": () => {
        const payload = fresh();
        return { body: payload.slice(0, randomInt(payload.length - 1)), signature: sign(payload) };
      },
      "truncated, signature recomputed": () => {
        const whole = fresh();
        const payload = whole.slice(0, 1 + randomInt(Math.min(2_000, whole.length - 2)));
        return { body: payload, signature: sign(payload) };
      },
      "wrong secret": () => {
        const payload = fresh();
        return { body: payload, signature: sign(payload, `whsec_${crypto.randomUUID().replaceAll("-", "")}`) };
      },
      "replayed too late": () => {
        const payload = fresh();
        return { body: payload, signature: sign(payload, WEBHOOK_SECRET, now() - 301 - randomInt(30 * 24 * 3600)) };
      },
      "tampered after signing": () => {
        const payload = fresh();
        return { body: payload.replace(/"(active|paid|starter)"/, '"canceled"').replace(/evt_fuzz_/, "evt_fuzz_x"), signature: sign(payload) };
      },
      "garbage header": () => ({ body: fresh(), signature: pick(["", "t=", "v1=", "t=abc,v1=def", "t=1,v1=" + "0".repeat(64), "t=99999999999,v1=zz", "x".repeat(10_000)]) }),
    };
    const names = Object.keys(kinds);
    const cases = Array.from({ length: 1_000 }, (_, i) => ({ kind: names[i % names.length] ?? "", ...(kinds[names[i % names.length] ?? ""]?.() ?? { body: "" }) }));

    const answers = await inBatches(cases, 16, async (testCase) => {
      const headers = new Headers();
      if (testCase.signature !== undefined) headers.set("stripe-signature", testCase.signature);
      const response = await harness.postWebhook(new Request("http://app/api/webhooks/stripe", { method: "POST", body: testCase.body, headers }));
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      return { kind: testCase.kind, status: response.status, code: body.error?.code, message: body.error?.message };
    });
    const wrong = answers.filter((answer) => answer.status !== 400 || answer.code !== "BAD_REQUEST" || !answer.message);
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(answers).toHaveLength(1_000);
    expect(await snapshot()).toEqual(before);
    await harness.faults({});
    await harness.idle();
  });
});

// Rotating secrets without downtime: STRIPE_WEBHOOK_SECRET and AUTH_SECRET each accept "new,old" for the length of a
// rotation. Webhooks signed with either secret pass the real route; sessions made with the old AUTH_SECRET stay
// readable while new ones are made with the new secret.
import { decode, encode } from "next-auth/jwt";
import { describe, expect, it, vi } from "vitest";
import { parseEnv } from "@/lib/env";
import { resolveAuthSecret } from "@/server/auth/secret";
import { startStripeHarness } from "../../support/stripe-harness";

const harness = await startStripeHarness();
const { stripe, webhookSecret: OLD } = harness;
const NEW = "whsec_rotated_in_0123456789";

// The app as it runs mid-rotation: a fresh module graph reading STRIPE_WEBHOOK_SECRET="new,old".
process.env.STRIPE_WEBHOOK_SECRET = `${NEW},${OLD}`;
vi.resetModules();
const { POST } = await import("@/app/api/webhooks/stripe/route");
const { processStripeWebhook } = await import("@/server/billing/webhooks/process-webhook");

const eventBody = (id: string) =>
  JSON.stringify({ id, object: "event", type: "customer.created", livemode: false, data: { object: { id: "cus_rotation", object: "customer" } } });
const post = (payload: string, secret: string) =>
  POST(
    new Request("http://app/api/webhooks/stripe", {
      method: "POST",
      body: payload,
      headers: { "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload, secret }) },
    }),
  );

describe("STRIPE_WEBHOOK_SECRET during a rotation", () => {
  it("takes one or two whsec_ secrets and refuses anything else, naming the variable", () => {
    expect(parseEnv({ STRIPE_WEBHOOK_SECRET: `${NEW}, ${OLD}` }).STRIPE_WEBHOOK_SECRET).toBe(`${NEW}, ${OLD}`);
    expect(() => parseEnv({ STRIPE_WEBHOOK_SECRET: `${NEW},${OLD},whsec_third` })).toThrow(/STRIPE_WEBHOOK_SECRET: holds at most two/);
    expect(() => parseEnv({ STRIPE_WEBHOOK_SECRET: `${NEW},secret` })).toThrow(/STRIPE_WEBHOOK_SECRET: must be a webhook signing secret/);
  });

  it("accepts deliveries signed with either secret through the real route, and refuses any other", async () => {
    const signedNew = await post(eventBody("evt_rotation_new"), NEW);
    expect(signedNew.status).toBe(200);
    expect(await signedNew.json()).toEqual({ received: true, status: "ignored" });
    const signedOld = await post(eventBody("evt_rotation_old"), OLD);
    expect(signedOld.status).toBe(200);
    const stranger = await post(eventBody("evt_rotation_stranger"), "whsec_someone_else");
    expect(stranger.status).toBe(400);
    expect(await stranger.json()).toMatchObject({ error: { code: "BAD_REQUEST", message: "Invalid Stripe signature." } });
  });

  it("after the rotation (the new secret alone), the old one is refused", async () => {
    const payload = eventBody("evt_rotation_done");
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: OLD });
    await expect(processStripeWebhook(payload, signature, { webhookSecret: NEW })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(processStripeWebhook(payload, signature, { webhookSecret: [NEW, OLD] })).resolves.toMatchObject({ status: "ignored" });
  });
});

describe("AUTH_SECRET during a rotation", () => {
  const oldSecret = "o".repeat(43);
  const newSecret = "n".repeat(43);
  const salt = "authjs.session-token";

  it("takes one or two secrets of 32+ characters each", () => {
    expect(resolveAuthSecret(parseEnv({ AUTH_SECRET: oldSecret }))).toBe(oldSecret);
    expect(resolveAuthSecret(parseEnv({ AUTH_SECRET: `${newSecret},${oldSecret}` }))).toEqual([newSecret, oldSecret]);
    expect(() => parseEnv({ AUTH_SECRET: `${newSecret},short` })).toThrow(/AUTH_SECRET: must be at least 32 characters/);
    expect(() => parseEnv({ AUTH_SECRET: `${newSecret},${oldSecret},${"t".repeat(40)}` })).toThrow(/AUTH_SECRET: holds at most two/);
  });

  it("reads sessions made with the old secret and makes new ones with the new secret (Auth.js, secret as an array)", async () => {
    const rotating = resolveAuthSecret(parseEnv({ AUTH_SECRET: `${newSecret},${oldSecret}` }));
    const before = await encode({ token: { sub: "user-1" }, secret: oldSecret, salt });
    expect(await decode({ token: before, secret: rotating, salt })).toMatchObject({ sub: "user-1" });

    const during = await encode({ token: { sub: "user-2" }, secret: rotating, salt });
    expect(await decode({ token: during, secret: newSecret, salt })).toMatchObject({ sub: "user-2" });
    // Once the old secret is dropped, sessions from before the rotation are no longer read.
    await expect(decode({ token: before, secret: newSecret, salt })).rejects.toThrow();
  });
});

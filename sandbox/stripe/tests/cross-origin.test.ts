// The sandbox's pages and control routes change state on a plain POST, so another site's form could drive them in a
// developer's browser: every such request from another origin is refused with 403, while the hosted pages' own forms
// (same origin) and direct calls without an Origin (tests, curl) keep working.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
});
afterAll(() => h.close());

const formPost = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
  fetch(`${h.sandbox.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });

async function openSession() {
  const customer = await h.stripe.customers.create({ email: `xo-${Math.random()}@example.com` });
  return h.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: catalog.basic.id, quantity: 1 }],
    success_url: "https://app.test/account",
  });
}

const CROSS_ORIGIN: Array<[string, Record<string, string>]> = [
  ["another origin", { origin: "http://evil.example" }],
  ["another port on the same host", { origin: "http://127.0.0.1:1" }],
  ["an opaque origin", { origin: "null" }],
  ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }],
  ["Sec-Fetch-Site: same-site", { "sec-fetch-site": "same-site" }],
];

describe("cross-origin requests to the sandbox's pages and control routes", () => {
  it.each(CROSS_ORIGIN)("refuses a simple form POST from %s with 403 and changes nothing", async (_name, headers) => {
    const faults = await formPost("/_sandbox/faults", { pauseDeliveries: "true" }, headers);
    expect(faults.status).toBe(403);
    expect(await faults.json()).toMatchObject({ error: { type: "invalid_request_error" } });

    const session = await openSession();
    expect((await formPost(`/_sandbox/checkout/sessions/${session.id}/complete`, {}, headers)).status).toBe(403);
    expect((await formPost(`/checkout/${session.id}`, { card: "4242 4242 4242 4242", exp: "12 / 39" }, headers)).status).toBe(403);
    expect((await formPost("/_sandbox/reset", {}, headers)).status).toBe(403);
    expect((await h.stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");

    const clock = (await h.stripe.testHelpers.testClocks.list({ limit: 1 })).data[0];
    if (!clock) throw new Error("no clock");
    expect((await formPost(`/_sandbox/test_clocks/${clock.id}/advance-month`, {}, headers)).status).toBe(403);
    expect((await h.stripe.testHelpers.testClocks.retrieve(clock.id)).frozen_time).toBe(clock.frozen_time);

    // Deliveries were never paused: a new event still arrives.
    const before = h.deliveries.length;
    await h.stripe.customers.create({ email: "after-xo@example.com" });
    await h.sandbox.idle();
    expect(h.deliveries.length).toBeGreaterThan(before);
  });

  it("accepts the same requests from the sandbox's own origin and without an Origin header", async () => {
    const own = { origin: h.sandbox.url, "sec-fetch-site": "same-origin" };
    const paused = await formPost("/_sandbox/faults", { pauseDeliveries: "true" }, own);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ pauseDeliveries: true });
    expect((await formPost("/_sandbox/faults", { pauseDeliveries: "false" }, {})).status).toBe(200);

    const viaPage = await openSession();
    const paid = await formPost(
      `/checkout/${viaPage.id}`,
      {
        email: "own@example.com",
        name: "Own Origin",
        "address[line1]": "1 Main St",
        "address[city]": "Town",
        "address[postal_code]": "12345",
        "address[country]": "US",
        card: "4242 4242 4242 4242",
        exp: "12 / 39",
        cvc: "123",
      },
      own,
    );
    expect(paid.status).toBe(303);
    expect((await h.stripe.checkout.sessions.retrieve(viaPage.id)).status).toBe("complete");

    const direct = await openSession();
    const completed = await fetch(`${h.sandbox.url}/_sandbox/checkout/sessions/${direct.id}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(completed.status).toBe(200);
  });

  it("leaves reads and the key-protected API alone", async () => {
    expect((await fetch(`${h.sandbox.url}/`, { headers: { origin: "http://evil.example" } })).status).toBe(200);
    const api = await fetch(`${h.sandbox.url}/v1/customers`, {
      method: "POST",
      headers: { origin: "http://evil.example", authorization: "Bearer sk_test_x", "content-type": "application/x-www-form-urlencoded" },
      body: "email=api%40example.com",
    });
    expect(api.status).toBe(200);
  });
});

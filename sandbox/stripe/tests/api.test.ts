// Stripe's wire contract: errors and status codes, idempotency, lists and cursors, expansion, filters, and every
// top-level field Stripe's own fixture object carries, for each resource the sandbox serves.
import fs from "node:fs";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DROPPED_BY_PINNED_API } from "./dropped-fields";
import { type Harness, client, completeCheckout, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
});
afterAll(() => h.close());

describe("errors", () => {
  it("answers 401 in Stripe's error shape for a key that is not a test secret key", async () => {
    const bad = new Stripe("pk_live_nope", { host: "127.0.0.1", port: h.sandbox.port, protocol: "http", maxNetworkRetries: 0 });
    await expect(bad.customers.list()).rejects.toMatchObject({ type: "StripeAuthenticationError", statusCode: 401 });
    const raw = await fetch(`${h.sandbox.url}/v1/customers`);
    expect(raw.status).toBe(401);
    expect(raw.headers.get("request-id")).toMatch(/^req_/);
    const body = (await raw.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: "invalid_request_error", message: expect.any(String) });
    expect(Object.keys(body.error)).toEqual(expect.arrayContaining(["type", "code", "message", "param"]));
  });

  it("rejects unknown parameters with 400 parameter_unknown, including payment_method_types on Checkout", async () => {
    const error = await h.stripe.checkout.sessions
      .create({
        mode: "subscription",
        line_items: [{ price: catalog.basic.id, quantity: 1 }],
        success_url: "https://app.test/ok",
        // @ts-expect-error this API version removed the parameter; the sandbox must reject it as Stripe does
        payment_method_types: ["card"],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: "parameter_unknown", param: "payment_method_types" });
    // @ts-expect-error not a customer parameter
    await expect(h.stripe.customers.create({ favourite_colour: "teal" })).rejects.toMatchObject({ code: "parameter_unknown", param: "favourite_colour" });
  });

  it("rejects missing parameters with 400 parameter_missing", async () => {
    const customer = await h.stripe.customers.create({ email: "missing@example.com" });
    await expect(h.stripe.subscriptions.create({ customer: customer.id })).rejects.toMatchObject({ statusCode: 400, code: "parameter_missing", param: "items" });
    await expect(h.stripe.checkout.sessions.create({ line_items: [{ price: catalog.basic.id, quantity: 1 }] })).rejects.toMatchObject({ code: "parameter_missing", param: "mode" });
  });

  it("answers 404 resource_missing for unknown ids", async () => {
    const error = await h.stripe.customers.retrieve("cus_doesnotexist").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: "resource_missing", param: "id" });
    await expect(h.stripe.subscriptions.retrieve("sub_nope")).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
    await expect(h.stripe.invoices.retrieve("in_nope")).rejects.toMatchObject({ statusCode: 404 });
    await expect(h.stripe.events.retrieve("evt_nope")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("answers 402 card_error card_declined when a payment must succeed and the card declines", async () => {
    const customer = await h.stripe.customers.create({ email: "declined@example.com" });
    const error = await h.stripe.subscriptions
      .create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_chargeDeclined", payment_behavior: "error_if_incomplete" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ statusCode: 402, type: "StripeCardError", code: "card_declined" });
    expect((await h.stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toHaveLength(0);
    // With the default payment_behavior and a card that attaches but fails when charged (0341), the subscription
    // is created `incomplete`, its invoice open.
    const incomplete = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_chargeCustomerFail", expand: ["latest_invoice"] });
    expect(incomplete.status).toBe("incomplete");
    expect((incomplete.latest_invoice as Stripe.Invoice).status).toBe("open");
  });

  it("refuses a portal session while no configuration exists", async () => {
    const fresh = await startHarness();
    try {
      const customer = await fresh.stripe.customers.create({ email: "portal@example.com" });
      await expect(fresh.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: "https://app.test" })).rejects.toMatchObject({ statusCode: 400, type: "StripeInvalidRequestError" });
    } finally {
      await fresh.close();
    }
  });
});

describe("idempotency", () => {
  it("replays the first response for the same key and parameters", async () => {
    const first = await h.stripe.customers.create({ email: "idem@example.com" }, { idempotencyKey: "customer:idem" });
    const second = await h.stripe.customers.create({ email: "idem@example.com" }, { idempotencyKey: "customer:idem" });
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(first.lastResponse.headers["idempotent-replayed"]).toBeUndefined();
    expect(first.lastResponse.requestId).toMatch(/^req_/);
    expect((await h.stripe.customers.list({ email: "idem@example.com" })).data).toHaveLength(1);
  });

  it("rejects the same key with other parameters as an idempotency_error", async () => {
    await h.stripe.customers.create({ email: "one@example.com" }, { idempotencyKey: "customer:conflict" });
    const error = await h.stripe.customers.create({ email: "two@example.com" }, { idempotencyKey: "customer:conflict" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({ statusCode: 400, type: "StripeIdempotencyError" });
  });
});

describe("lists, filters and expansion", () => {
  it("counts the API requests it answered by method and path", async () => {
    const before = h.sandbox.apiRequests("GET", "/v1/subscriptions");
    const created = h.sandbox.apiRequests("POST", "/v1/products");
    await h.stripe.subscriptions.list({ limit: 1 });
    await h.stripe.subscriptions.list({ status: "all" });
    await h.stripe.products.create({ name: "Counted" });
    expect(h.sandbox.apiRequests("GET", "/v1/subscriptions")).toBe(before + 2);
    expect(h.sandbox.apiRequests("POST", "/v1/products")).toBe(created + 1);
    expect(h.sandbox.apiRequests("DELETE", "/v1/nothing")).toBe(0);
  });

  it("paginates newest first with limit, has_more and starting_after", async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await h.stripe.products.create({ name: `Page ${i}`, metadata: { page: "yes" } })).id);
    const first = await h.stripe.products.list({ limit: 2 });
    expect(first).toMatchObject({ object: "list", has_more: true, url: "/v1/products" });
    expect(first.data.map((p) => p.id)).toEqual([created[4], created[3]]);
    const second = await h.stripe.products.list({ limit: 2, starting_after: first.data[1]?.id });
    expect(second.data.map((p) => p.id)).toEqual([created[2], created[1]]);
    const all = await h.stripe.products.list({ limit: 2 }).autoPagingToArray({ limit: 100 });
    expect(all.map((p) => p.id)).toEqual(expect.arrayContaining(created));
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
  });

  it("finds prices by lookup_keys[] and moves a lookup key with transfer_lookup_key", async () => {
    const found = await h.stripe.prices.list({ lookup_keys: ["pro_monthly"], active: true, expand: ["data.product"] });
    expect(found.data.map((p) => p.id)).toEqual([catalog.pro.id]);
    expect((found.data[0]?.product as Stripe.Product).name).toBe("Pro");
    await expect(h.stripe.prices.create({ product: catalog.proProduct.id, currency: "usd", unit_amount: 3500, recurring: { interval: "month" }, lookup_key: "pro_monthly" })).rejects.toMatchObject({ statusCode: 400 });
    const moved = await h.stripe.prices.create({ product: catalog.proProduct.id, currency: "usd", unit_amount: 3500, recurring: { interval: "month" }, lookup_key: "pro_monthly", transfer_lookup_key: true });
    expect((await h.stripe.prices.list({ lookup_keys: ["pro_monthly"] })).data.map((p) => p.id)).toEqual([moved.id]);
    expect((await h.stripe.prices.retrieve(catalog.pro.id)).lookup_key).toBeNull();
    await h.stripe.prices.update(catalog.pro.id, { lookup_key: "pro_monthly", transfer_lookup_key: true });
    expect((await h.stripe.prices.list({ lookup_keys: ["pro_monthly"] })).data.map((p) => p.id)).toEqual([catalog.pro.id]);
  });

  it("lists customers by email, updates them and expands subscription fields", async () => {
    const customer = await h.stripe.customers.create({ email: "list@example.com", name: "L", metadata: { userId: "42" } });
    const updated = await h.stripe.customers.update(customer.id, { name: "Lin", metadata: { plan: "pro" }, address: { line1: "2 Road", country: "US" } });
    expect(updated.metadata).toEqual({ userId: "42", plan: "pro" });
    expect(updated.address?.line1).toBe("2 Road");
    expect((await h.stripe.customers.list({ email: "list@example.com" })).data.map((c) => c.id)).toEqual([customer.id]);
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa", metadata: { userId: "42" } });
    const listed = await h.stripe.subscriptions.list({ customer: customer.id, expand: ["data.customer", "data.latest_invoice"] });
    expect((listed.data[0]?.customer as Stripe.Customer).email).toBe("list@example.com");
    expect((listed.data[0]?.latest_invoice as Stripe.Invoice).id).toMatch(/^in_/);
    expect((await h.stripe.subscriptions.list({ price: catalog.basic.id, customer: customer.id })).data.map((s) => s.id)).toEqual([sub.id]);
    expect((await h.stripe.subscriptions.list({ price: catalog.pro.id, customer: customer.id })).data).toHaveLength(0);
    const expanded = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["customer", "items.data.price.product", "default_payment_method"] });
    expect((expanded.items.data[0]?.price.product as Stripe.Product).name).toBe("Basic");
    expect((expanded.default_payment_method as Stripe.PaymentMethod).card?.last4).toBe("4242");
    expect((await h.stripe.invoices.list({ customer: customer.id })).data).toHaveLength(1);
    const updatedSub = await h.stripe.subscriptions.update(sub.id, { metadata: { note: "x" } });
    expect(updatedSub.metadata).toEqual({ userId: "42", note: "x" });
  });

  it("lists events newest first, by type, types[] and delivery_success", async () => {
    const customer = await h.stripe.customers.create({ email: "events@example.com" });
    await h.sandbox.idle();
    const latest = await h.stripe.events.list({ limit: 1 });
    expect(latest.data[0]?.type).toBe("customer.created");
    expect((latest.data[0]?.data.object as Stripe.Customer).id).toBe(customer.id);
    const byType = await h.stripe.events.list({ type: "customer.created", limit: 100 });
    expect(byType.data.every((e) => e.type === "customer.created")).toBe(true);
    const byTypes = await h.stripe.events.list({ types: ["customer.created", "test_helpers.test_clock.created"], limit: 100 });
    expect(new Set(byTypes.data.map((e) => e.type))).toEqual(new Set(["customer.created", "test_helpers.test_clock.created"]));
    const delivered = await h.stripe.events.list({ delivery_success: true, limit: 100 });
    expect(delivered.data.length).toBeGreaterThan(0);
    expect(delivered.data.every((e) => e.pending_webhooks === 0)).toBe(true);
    expect((await h.stripe.events.list({ delivery_success: false })).data).toHaveLength(0);
    const event = await h.stripe.events.retrieve(latest.data[0]?.id ?? "");
    expect(event.id).toBe(latest.data[0]?.id);
  });

  it("manages webhook endpoints: the secret only on create", async () => {
    const endpoint = await h.stripe.webhookEndpoints.create({ url: "http://127.0.0.1:1/hook", enabled_events: ["invoice.paid"], api_version: "2026-10-28.endive" });
    expect(endpoint.id).toMatch(/^we_/);
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect(endpoint.api_version).toBe("2026-10-28.endive");
    const retrieved = await h.stripe.webhookEndpoints.retrieve(endpoint.id);
    expect(retrieved.secret).toBeUndefined();
    expect(retrieved.enabled_events).toEqual(["invoice.paid"]);
    expect((await h.stripe.webhookEndpoints.list()).data.map((e) => e.id)).toContain(endpoint.id);
    expect(await h.stripe.webhookEndpoints.del(endpoint.id)).toMatchObject({ id: endpoint.id, deleted: true });
    await expect(h.stripe.webhookEndpoints.retrieve(endpoint.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it("creates, lists, retrieves and updates portal configurations, and opens sessions on them", async () => {
    const config = await h.stripe.billingPortal.configurations.create({
      business_profile: { headline: "Manage Hourglass" },
      features: {
        invoice_history: { enabled: true },
        payment_method_update: { enabled: true },
        subscription_cancel: { enabled: true, mode: "at_period_end" },
        subscription_update: {
          enabled: true,
          default_allowed_updates: ["price"],
          proration_behavior: "always_invoice",
          products: [
            { product: catalog.basicProduct.id, prices: [catalog.basic.id] },
            { product: catalog.proProduct.id, prices: [catalog.pro.id] },
          ],
        },
      },
    });
    expect(config.id).toMatch(/^bpc_/);
    expect(config.is_default).toBe(true);
    expect(config.features.subscription_update.products).toHaveLength(2);
    expect((await h.stripe.billingPortal.configurations.retrieve(config.id)).business_profile.headline).toBe("Manage Hourglass");
    expect((await h.stripe.billingPortal.configurations.list()).data.map((c) => c.id)).toContain(config.id);
    const updated = await h.stripe.billingPortal.configurations.update(config.id, { business_profile: { headline: "Billing" }, features: { invoice_history: { enabled: false } } });
    expect(updated.business_profile.headline).toBe("Billing");
    expect(updated.features.invoice_history.enabled).toBe(false);
    expect(updated.features.subscription_cancel.enabled).toBe(true);
    const customer = await h.stripe.customers.create({ email: "bps@example.com" });
    const session = await h.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: "https://app.test/account" });
    expect(session.id).toMatch(/^bps_/);
    expect(session.configuration).toBe(config.id);
    expect(session.url).toBe(`${h.sandbox.url}/portal/${session.id}`);
  });

  it("expires an open Checkout Session and lists sessions", async () => {
    const session = await h.stripe.checkout.sessions.create({ mode: "subscription", line_items: [{ price: catalog.basic.id, quantity: 1 }], success_url: "https://app.test/ok" });
    const expired = await h.stripe.checkout.sessions.expire(session.id);
    expect(expired.status).toBe("expired");
    expect((await completeCheckout(h.sandbox, session.id)).status).toBe(400);
    expect((await h.stripe.checkout.sessions.list({ limit: 100 })).data.map((s) => s.id)).toContain(session.id);
    const items = await h.stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data[0]?.price?.id).toBe(catalog.basic.id);
  });
});

describe("fixture fields", () => {
  // Fields Stripe's fixture file still shows but the pinned API version dropped; contract.test.ts proves each one is
  // absent from the pinned `stripe` types, so nothing can hide here.
  // fixture-fields.json lists, per resource, the top-level field names and the id prefix of Stripe's own
  // example objects (fixtures3.json from Stripe's OpenAPI repository). It is committed so a clone without
  // ../shared still runs this test; when ../shared is there, the first test proves the copy is current.
  type FixtureFields = Record<string, { fields: string[]; idPrefix: string | null }>;
  const fixtures = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "fixture-fields.json"), "utf8")) as FixtureFields;
  const sourcePath = path.resolve(import.meta.dirname, "../../../../shared/stripe-fixtures/fixtures3.json");
  const missingKeys = (resource: string, object: object) => {
    const fixture = fixtures[resource];
    if (!fixture) throw new Error(`no fixture for ${resource}`);
    const dropped: readonly string[] = DROPPED_BY_PINNED_API[resource] ?? [];
    return fixture.fields.filter((key) => !(key in object) && !dropped.includes(key));
  };

  it.skipIf(!fs.existsSync(sourcePath))("matches Stripe's fixture file when it is available", () => {
    const source = (JSON.parse(fs.readFileSync(sourcePath, "utf8")) as { resources: Record<string, Record<string, unknown>> }).resources;
    for (const [resource, { fields, idPrefix }] of Object.entries(fixtures)) {
      const example = source[resource];
      if (!example) throw new Error(`fixtures3.json has no ${resource}`);
      const id = example.id;
      expect({ resource, fields, idPrefix }).toEqual({ resource, fields: Object.keys(example), idPrefix: typeof id === "string" ? id.split("_")[0] : null });
    }
  });

  it("carries every top-level field of Stripe's fixture for each resource", async () => {
    const stripe = client(h.sandbox.port);
    const customer = await stripe.customers.create({ email: "fixture@example.com" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: catalog.basic.id, quantity: 1 }],
      success_url: "https://app.test/ok",
      cancel_url: "https://app.test/no",
    });
    expect(missingKeys("checkout.session", session)).toEqual([]);
    await completeCheckout(h.sandbox, session.id);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(missingKeys("checkout.session", done)).toEqual([]);
    const sub = await stripe.subscriptions.retrieve(String(done.subscription));
    const invoice = await stripe.invoices.retrieve(String(sub.latest_invoice));
    const item = sub.items.data[0];
    const line = invoice.lines.data[0];
    if (!item || !line) throw new Error("missing item or line");
    const pm = await stripe.paymentMethods.retrieve(String(sub.default_payment_method));
    const configs = await stripe.billingPortal.configurations.list();
    const config = configs.data[0] ?? (await stripe.billingPortal.configurations.create({ features: { invoice_history: { enabled: true } } }));
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, configuration: config.id, return_url: "https://app.test" });
    const clock = await stripe.testHelpers.testClocks.retrieve(String(customer.test_clock));
    const endpoint = await stripe.webhookEndpoints.create({ url: "http://127.0.0.1:1/x", enabled_events: ["*"] });
    const event = (await stripe.events.list({ limit: 1 })).data[0];
    if (!event) throw new Error("no event");
    const deletedClock = await stripe.testHelpers.testClocks.del((await stripe.testHelpers.testClocks.create({ frozen_time: 1_800_000_000 })).id);
    const deletedEndpoint = await stripe.webhookEndpoints.del(endpoint.id);
    const freshCustomer = await stripe.customers.create({ email: "gone@example.com" });
    const deletedCustomer = await stripe.customers.del(freshCustomer.id);

    const cases: Array<[string, object]> = [
      ["customer", await stripe.customers.retrieve(customer.id)],
      ["subscription", sub],
      ["subscription_item", item],
      ["invoice", invoice],
      ["line_item", line],
      ["price", await stripe.prices.retrieve(catalog.basic.id)],
      ["product", await stripe.products.retrieve(catalog.basicProduct.id)],
      ["payment_method", pm],
      ["billing_portal.configuration", config],
      ["billing_portal.session", portal],
      ["test_helpers.test_clock", clock],
      ["webhook_endpoint", endpoint],
      ["event", event],
      ["deleted_test_helpers.test_clock", deletedClock],
      ["deleted_webhook_endpoint", deletedEndpoint],
      ["deleted_customer", deletedCustomer],
    ];
    for (const [resource, object] of cases) {
      expect({ resource, missing: missingKeys(resource, object) }).toEqual({ resource, missing: [] });
      if ("id" in object && typeof object.id === "string" && !resource.startsWith("deleted")) {
        const prefix = fixtures[resource]?.idPrefix;
        expect({ resource, prefix: object.id.split("_")[0] }).toEqual({ resource, prefix });
      }
      if ("livemode" in object) expect(object.livemode).toBe(false);
    }
  });
});

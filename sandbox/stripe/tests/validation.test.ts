// Nested params, enum values and `expand` paths are checked the way Stripe checks them: a 400 invalid_request_error
// naming the offending `param`, and nothing created or changed.
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedCatalog, startHarness } from "./harness";

let h: Harness;
let catalog: Awaited<ReturnType<typeof seedCatalog>>;
let customer: Stripe.Customer;

beforeAll(async () => {
  h = await startHarness();
  catalog = await seedCatalog(h.stripe);
  customer = await h.stripe.customers.create({ email: "validation@example.com" });
});
afterAll(() => h.close());

/** The error the official client raises for a request, as {status, type, code, param}. */
async function refusal(request: Promise<unknown>) {
  const error = await request.then(
    () => null,
    (caught: unknown) => caught as Stripe.errors.StripeError,
  );
  if (!error) throw new Error("the sandbox accepted the request");
  return { status: error.statusCode, type: error.type, rawType: error.raw && (error.raw as { type?: string }).type, code: error.code ?? null, param: error.param ?? null, message: error.message };
}

const invalid = (param: string, code: string | null = "parameter_invalid") =>
  expect.objectContaining({ status: 400, type: "StripeInvalidRequestError", rawType: "invalid_request_error", code, param });

describe("Checkout Session params", () => {
  const base = () => ({
    mode: "subscription" as const,
    customer: customer.id,
    line_items: [{ price: catalog.basic.id, quantity: 1 }],
    success_url: "https://app.test/ok",
  });

  it("refuses customer_update values outside auto/never and unknown keys under it", async () => {
    const before = (await h.stripe.checkout.sessions.list({ limit: 100 })).data.length;
    const bogus = { ...base(), customer_update: { address: "bogus" } } as unknown as Stripe.Checkout.SessionCreateParams;
    const refused = await refusal(h.stripe.checkout.sessions.create(bogus));
    expect(refused).toEqual(invalid("customer_update[address]"));
    expect(refused.message).toBe("Invalid customer_update[address]: must be one of auto or never");

    const unknown = { ...base(), customer_update: { address: "auto", colour: "auto" } } as unknown as Stripe.Checkout.SessionCreateParams;
    expect(await refusal(h.stripe.checkout.sessions.create(unknown))).toEqual(invalid("customer_update[colour]", "parameter_unknown"));

    const badLocale = { ...base(), locale: "xx" } as unknown as Stripe.Checkout.SessionCreateParams;
    expect(await refusal(h.stripe.checkout.sessions.create(badLocale))).toEqual(invalid("locale"));
    const badCollection = { ...base(), payment_method_collection: "sometimes" } as unknown as Stripe.Checkout.SessionCreateParams;
    expect(await refusal(h.stripe.checkout.sessions.create(badCollection))).toEqual(invalid("payment_method_collection"));
    const badQuantity = { ...base(), line_items: [{ price: catalog.basic.id, quantity: "two" }] } as unknown as Stripe.Checkout.SessionCreateParams;
    expect(await refusal(h.stripe.checkout.sessions.create(badQuantity))).toEqual(invalid("line_items[0][quantity]"));

    expect((await h.stripe.checkout.sessions.list({ limit: 100 })).data.length).toBe(before);
    // The values Stripe allows still work.
    const ok = await h.stripe.checkout.sessions.create({ ...base(), customer_update: { address: "auto", name: "never" }, locale: "fr-CA" });
    expect(ok.status).toBe("open");
  });
});

describe("portal configuration features", () => {
  const features = (): Stripe.BillingPortal.ConfigurationCreateParams.Features => ({
    customer_update: { enabled: true, allowed_updates: ["email"] },
    invoice_history: { enabled: true },
    subscription_cancel: { enabled: true, mode: "at_period_end" },
  });
  const withFeatures = (f: unknown) => ({ features: f }) as Stripe.BillingPortal.ConfigurationCreateParams;

  it("refuses unknown keys at every level of features[...]", async () => {
    const before = (await h.stripe.billingPortal.configurations.list({ limit: 100 })).data.length;
    const cases: Array<[unknown, string]> = [
      [{ ...features(), bogus: { enabled: true } }, "features[bogus]"],
      [{ ...features(), customer_update: { enabled: true, colour: "red" } }, "features[customer_update][colour]"],
      [{ ...features(), invoice_history: { enabled: true, extra: "1" } }, "features[invoice_history][extra]"],
      [{ ...features(), subscription_cancel: { enabled: true, cancellation_reason: { enabled: true, options: ["other"], why: "x" } } }, "features[subscription_cancel][cancellation_reason][why]"],
      [{ ...features(), subscription_update: { enabled: true, products: [{ product: catalog.basicProduct.id, prices: [catalog.basic.id], colour: "x" }] } }, "features[subscription_update][products][0][colour]"],
    ];
    for (const [f, param] of cases) {
      expect({ param, refused: await refusal(h.stripe.billingPortal.configurations.create(withFeatures(f))) }).toEqual({ param, refused: invalid(param, "parameter_unknown") });
    }
    expect((await h.stripe.billingPortal.configurations.list({ limit: 100 })).data.length).toBe(before);
  });

  it("refuses enum values Stripe does not know and a missing `enabled`", async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ ...features(), subscription_cancel: { enabled: true, mode: "whenever" } }, "features[subscription_cancel][mode]", "parameter_invalid"],
      [{ ...features(), customer_update: { enabled: true, allowed_updates: ["email", "shoe_size"] } }, "features[customer_update][allowed_updates][1]", "parameter_invalid"],
      [{ ...features(), subscription_update: { enabled: true, proration_behavior: "sometimes" } }, "features[subscription_update][proration_behavior]", "parameter_invalid"],
      [{ ...features(), invoice_history: { enabled: "yes" } }, "features[invoice_history][enabled]", "parameter_invalid"],
      [{ ...features(), payment_method_update: { payment_method_configuration: "pmc_123" } }, "features[payment_method_update][enabled]", "parameter_missing"],
    ];
    for (const [f, param, code] of cases) {
      expect({ param, refused: await refusal(h.stripe.billingPortal.configurations.create(withFeatures(f))) }).toEqual({ param, refused: invalid(param, code) });
    }
    const config = await h.stripe.billingPortal.configurations.create({ features: features() });
    const update = { features: { subscription_cancel: { mode: "later" } } } as unknown as Stripe.BillingPortal.ConfigurationUpdateParams;
    expect(await refusal(h.stripe.billingPortal.configurations.update(config.id, update))).toEqual(invalid("features[subscription_cancel][mode]"));
    expect((await h.stripe.billingPortal.configurations.retrieve(config.id)).features.subscription_cancel.mode).toBe("at_period_end");
  });
});

describe("expand", () => {
  it("refuses paths that name no expandable field, and keeps expanding the ones that do", async () => {
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
    const cases: Array<[string[], string]> = [
      [["nope"], "expand[0]"],
      [["customer", "status"], "expand[1]"],
      [["items"], "expand[0]"],
      [["items.data.price"], "expand[0]"],
      [["customer.nope"], "expand[0]"],
      [["latest_invoice.lines.data.nope"], "expand[0]"],
      [["customer..id"], "expand[0]"],
      [["latest_invoice.customer.invoice_settings.default_payment_method.customer"], "expand[0]"],
    ];
    for (const [expand, param] of cases) {
      const refused = await refusal(h.stripe.subscriptions.retrieve(sub.id, { expand }));
      expect({ expand, refused }).toEqual({ expand, refused: invalid(param, null) });
    }
    const listed = await refusal(h.stripe.subscriptions.list({ customer: customer.id, expand: ["customer"] }));
    expect(listed).toEqual(invalid("expand[0]", null));
    expect(listed.message).toContain("data.customer");

    const expanded = await h.stripe.subscriptions.retrieve(sub.id, { expand: ["customer", "latest_invoice", "items.data.price.product", "test_clock"] });
    expect((expanded.customer as Stripe.Customer).email).toBe("validation@example.com");
    expect((expanded.items.data[0]?.price.product as Stripe.Product).name).toBe("Basic");
    expect(typeof expanded.latest_invoice).toBe("object");
  });
});

describe("other resources' enums and nested params", () => {
  it("refuses bad enum values and nested keys on subscriptions, customers, prices and list filters", async () => {
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: catalog.basic.id }], default_payment_method: "pm_card_visa" });
    const cast = <T>(value: unknown) => value as T;
    const cases: Array<[Promise<unknown>, string, string]> = [
      [h.stripe.subscriptions.update(sub.id, cast({ proration_behavior: "sometimes" })), "proration_behavior", "parameter_invalid"],
      [h.stripe.subscriptions.update(sub.id, cast({ cancellation_details: { feedback: "meh" } })), "cancellation_details[feedback]", "parameter_invalid"],
      [h.stripe.subscriptions.update(sub.id, cast({ cancellation_details: { mood: "meh" } })), "cancellation_details[mood]", "parameter_unknown"],
      [h.stripe.subscriptions.update(sub.id, cast({ items: [{ id: sub.items.data[0]?.id, quantity: "lots" }] })), "items[0][quantity]", "parameter_invalid"],
      [h.stripe.subscriptions.create(cast({ customer: customer.id, items: [{ price: catalog.basic.id }], collection_method: "by_post" })), "collection_method", "parameter_invalid"],
      [h.stripe.subscriptions.list(cast({ status: "sleeping" })), "status", "parameter_invalid"],
      [h.stripe.invoices.list(cast({ status: "lost" })), "status", "parameter_invalid"],
      [h.stripe.checkout.sessions.list(cast({ status: "pending" })), "status", "parameter_invalid"],
      [h.stripe.customers.update(customer.id, cast({ address: { line1: "1 Main St", line3: "nope" } })), "address[line3]", "parameter_unknown"],
      [h.stripe.customers.create(cast({ email: "tax@example.com", tax_exempt: "maybe" })), "tax_exempt", "parameter_invalid"],
      [h.stripe.prices.create(cast({ product: catalog.basicProduct.id, currency: "usd", unit_amount: 100, recurring: { interval: "fortnight" } })), "recurring[interval]", "parameter_invalid"],
      [h.stripe.prices.create(cast({ product: catalog.basicProduct.id, currency: "usd", unit_amount: 100, recurring: { usage_type: "licensed" } })), "recurring[interval]", "parameter_missing"],
      [h.stripe.prices.create(cast({ product: catalog.basicProduct.id, currency: "usd", unit_amount: 100, tax_behavior: "sometimes" })), "tax_behavior", "parameter_invalid"],
    ];
    for (const [request, param, code] of cases) {
      expect({ param, refused: await refusal(request) }).toEqual({ param, refused: invalid(param, code) });
    }
    const after = await h.stripe.subscriptions.retrieve(sub.id);
    expect(after.cancellation_details?.feedback ?? null).toBeNull();
    expect(after.items.data[0]?.quantity).toBe(1);
  });
});


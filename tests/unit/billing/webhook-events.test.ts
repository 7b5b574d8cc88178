// The events the app handles are the events it asks Stripe for: `npm run stripe:listen` forwards exactly them, and
// the README's production endpoint names each, so adding a handler without subscribing to its event fails here.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { webhookHandlers } from "@/server/billing/webhooks/handlers";

const root = path.resolve(import.meta.dirname, "../../..");
const handled = Object.keys(webhookHandlers).sort();

describe("the webhook events the app subscribes to", () => {
  it("are exactly the handled ones in `npm run stripe:listen`", () => {
    const script = fs.readFileSync(path.join(root, "scripts/stripe-listen.sh"), "utf8");
    const events = /--events\s+(\S+)/.exec(script)?.[1]?.split(",") ?? [];
    expect([...events].sort()).toEqual(handled);
  });

  it("are each named in the README's production endpoint setup", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const setup = readme.slice(readme.indexOf("add an endpoint for `https://your-app/api/webhooks/stripe`"));
    const paragraph = setup.slice(0, setup.indexOf("\n3. "));
    expect(paragraph.length).toBeGreaterThan(0);
    // The subscription events are written as one `customer.subscription.created|updated|deleted|trial_will_end`.
    const named = new Set(
      [...paragraph.matchAll(/`([a-z_.]+(?:\|[a-z_]+)*)`/g)].flatMap(([, name = ""]) => {
        const [first = "", ...rest] = name.split("|");
        const prefix = first.slice(0, first.lastIndexOf(".") + 1);
        return [first, ...rest.map((suffix) => prefix + suffix)];
      }),
    );
    expect(handled.filter((event) => !named.has(event))).toEqual([]);
  });
});

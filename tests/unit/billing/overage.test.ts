import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { readBudgetAlert } from "@/lib/budget-alert";
import { capTokensFor, licensedItem, overageCents, overageFor, userOverage } from "@/server/billing/overage";
import { plans } from "@/server/billing/plans";

describe("overage arithmetic", () => {
  const overage = plans.starter.overage;

  it("turns a cap in cents into whole 1,000-token blocks whose bill stays within the cap", () => {
    expect(overage.centsPer1000Tokens).toBe(2);
    expect(capTokensFor(overage, 0)).toBe(0);
    expect(capTokensFor(overage, 1)).toBe(0);
    expect(capTokensFor(overage, 5)).toBe(2_000);
    for (const cap of [1, 2, 3, 99, 100, 12_345]) expect(overageCents(overage, capTokensFor(overage, cap))).toBeLessThanOrEqual(cap);
  });

  it("bills per started 1,000 tokens, as the metered price's transform_quantity rounds", () => {
    expect(overageCents(overage, 0)).toBe(0);
    expect(overageCents(overage, 1)).toBe(2);
    expect(overageCents(overage, 1_000)).toBe(2);
    expect(overageCents(overage, 1_001)).toBe(4);
  });

  it("offers overage only while it is on, at the price of the metered item the subscription carries", () => {
    expect(overageFor(plans.pro, false)).toBeNull();
    expect(overageFor(plans.pro, true)).toEqual(plans.pro.overage);
    expect(overageFor(plans.free, true)).toBeNull();
    expect(userOverage({ stripeOverageLookupKey: "hourglass_pro_overage" }, true)).toEqual(plans.pro.overage);
    // Switched to Pro in the portal: the metered item keeps Starter's price, and so does the cap's conversion.
    expect(userOverage({ stripeOverageLookupKey: "hourglass_starter_overage" }, true)).toEqual(plans.starter.overage);
    expect(userOverage({ stripeOverageLookupKey: "hourglass_pro_overage" }, false)).toBeNull();
    expect(userOverage({ stripeOverageLookupKey: null }, true)).toBeNull();
    expect(userOverage({ stripeOverageLookupKey: "someone_elses_price" }, true)).toBeNull();
  });

  it("finds the licensed item whatever the order of the subscription's items", () => {
    const item = (id: string, usageType: "licensed" | "metered") => ({ id, price: { recurring: { usage_type: usageType } } }) as Stripe.SubscriptionItem;
    const sub = (items: Stripe.SubscriptionItem[]) => ({ items: { data: items } }) as Stripe.Subscription;
    expect(licensedItem(sub([item("metered", "metered"), item("plan", "licensed")]))?.id).toBe("plan");
    expect(licensedItem(sub([item("plan", "licensed"), item("metered", "metered")]))?.id).toBe("plan");
    expect(licensedItem(sub([]))).toBeUndefined();
  });
});

describe("budget alerts", () => {
  it("says nothing above 20% left, warns at 80% used, then at 100%", () => {
    expect(readBudgetAlert(500, 1_000, null)).toBeNull();
    expect(readBudgetAlert(200, 1_000, null)).toEqual({ level: "budget-80", percentUsed: 80 });
    expect(readBudgetAlert(50, 1_000, null)).toEqual({ level: "budget-80", percentUsed: 95 });
    expect(readBudgetAlert(0, 1_000, null)).toEqual({ level: "budget-100" });
    expect(readBudgetAlert(0, 1_000, { usedTokens: 0, capTokens: 0 })).toEqual({ level: "budget-100" });
    expect(readBudgetAlert(0, 0, null)).toBeNull();
  });

  it("with a cap: answers count as overage once the budget is spent (or too short for the prompt), until the cap", () => {
    const overage = (usedTokens: number) => ({ usedTokens, capTokens: 2_000 });
    expect(readBudgetAlert(500, 1_000, overage(0))).toBeNull();
    expect(readBudgetAlert(0, 1_000, overage(0))).toEqual({ level: "overage", overage: overage(0) });
    expect(readBudgetAlert(166, 1_000, overage(300))).toEqual({ level: "overage", overage: overage(300) });
    expect(readBudgetAlert(0, 1_000, overage(2_000))).toEqual({ level: "overage-cap", overage: overage(2_000) });
    // A 429 with a cap set is the cap: what is left under it is too little for this conversation.
    expect(readBudgetAlert(0, 1_000, overage(1_950), { refused: true })).toEqual({ level: "overage-cap", overage: overage(1_950) });
    expect(readBudgetAlert(0, 1_000, null, { refused: true })).toEqual({ level: "budget-100" });
    // Packs are spent before overage.
    expect(readBudgetAlert(0, 1_000, overage(0), { packTokens: 5_000 })).toEqual({ level: "budget-100" });
  });
});

// The plans table: each paid plan's monthly and yearly prices, found again by either lookup key, and what a trial grants.
import { describe, expect, it } from "vitest";
import { budgetFor, findPlanByLookupKey, paidPlans, planPrice, plans } from "@/server/billing/plans";

describe("plans", () => {
  it("give every paid plan a monthly and a yearly price, the yearly one ten months of the monthly", () => {
    for (const plan of paidPlans) {
      expect(planPrice(plan, "month")).toEqual({ lookupKey: plan.lookupKey, amountCents: plan.amountCents });
      expect(planPrice(plan, "year")).toEqual({ lookupKey: plan.yearlyLookupKey, amountCents: plan.amountCents * 10 });
      expect(plan.yearlyLookupKey).not.toBe(plan.lookupKey);
    }
    expect(plans.starter.yearlyLookupKey).toBe("hourglass_starter_yearly");
  });

  it("map either lookup key back to its plan, and nothing else to any plan", () => {
    expect(findPlanByLookupKey("hourglass_starter_yearly")?.id).toBe("starter");
    expect(findPlanByLookupKey("hourglass_pro_yearly")?.id).toBe("pro");
    expect(findPlanByLookupKey("hourglass_pro_monthly")?.id).toBe("pro");
    expect(findPlanByLookupKey("hourglass_pro_weekly")).toBeNull();
    expect(findPlanByLookupKey(null)).toBeNull();
  });

  it("grant the trial's budget while trialing and the plan's otherwise; Starter has a 7-day trial of 100,000 tokens", () => {
    expect(plans.starter).toMatchObject({ trialDays: 7, trialTokenBudget: 100_000 });
    expect(plans.pro.trialDays).toBe(0);
    expect(budgetFor(plans.starter, "trialing")).toBe(100_000);
    expect(budgetFor(plans.starter, "active")).toBe(plans.starter.tokenBudget);
    expect(budgetFor(plans.starter, "past_due")).toBe(plans.starter.tokenBudget);
  });
});

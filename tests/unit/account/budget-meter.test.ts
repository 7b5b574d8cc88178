// The budget meter's colour: the share left of the plan the user has now, so an upgrade (the budget raised by the
// difference of the two plans) never reads as nearly spent.
import { describe, expect, it } from "vitest";
import { chatTokensExhausted, LOW_BUDGET_SHARE, readBudgetMeter } from "@/lib/budget-meter";

const STARTER = 1_000_000;
const PRO = 5_000_000;

describe("budget meter", () => {
  it("shows the share of the current cap that is left", () => {
    expect(readBudgetMeter(STARTER, STARTER)).toEqual({ percentLeft: 100, tone: "ok" });
    expect(readBudgetMeter(250_000, STARTER)).toEqual({ percentLeft: 25, tone: "ok" });
  });

  it("warns at and below a fifth of the cap, and when nothing is left", () => {
    expect(LOW_BUDGET_SHARE).toBe(0.2);
    expect(readBudgetMeter(200_001, STARTER).tone).toBe("ok");
    expect(readBudgetMeter(200_000, STARTER)).toEqual({ percentLeft: 20, tone: "low" });
    expect(readBudgetMeter(0, STARTER)).toEqual({ percentLeft: 0, tone: "low" });
  });

  it("never reads an upgrade as red: Starter's remainder raised by the difference is most of Pro", () => {
    // Starter with 270 tokens used, upgraded: 999,730 + 5,000,000 - 1,000,000.
    expect(readBudgetMeter(STARTER - 270 + PRO - STARTER, PRO)).toEqual({ percentLeft: 99.9946, tone: "ok" });
    // Even a fully spent Starter budget, upgraded, is four fifths of Pro.
    expect(readBudgetMeter(0 + PRO - STARTER, PRO)).toEqual({ percentLeft: 80, tone: "ok" });
    // What the account showed before the fix (Starter's remainder under Pro's cap) would have been red.
    expect(readBudgetMeter(999_730, PRO).tone).toBe("low");
  });

  it("reads a budget above the current cap (a bigger plan's kept to the period end) as full", () => {
    expect(readBudgetMeter(4_000_000, STARTER)).toEqual({ percentLeft: 100, tone: "ok" });
  });

  it("reads a plan without tokens as empty, and refuses counts that are not numbers", () => {
    expect(readBudgetMeter(0, 0)).toEqual({ percentLeft: 0, tone: "low" });
    expect(() => readBudgetMeter(Number.NaN, STARTER)).toThrow(RangeError);
    expect(() => readBudgetMeter(10, Number.POSITIVE_INFINITY)).toThrow(/finite token counts/);
  });
});

describe("chatTokensExhausted", () => {
  it("is exhausted only when the period's budget and every credit pack are used up", () => {
    expect(chatTokensExhausted(0, 0)).toBe(true);
    expect(chatTokensExhausted(0, null)).toBe(true);
    expect(chatTokensExhausted(0, undefined)).toBe(true);
    expect(chatTokensExhausted(0, 1)).toBe(false);
    expect(chatTokensExhausted(5, 0)).toBe(false);
    expect(chatTokensExhausted(null, 0)).toBe(false);
  });
});

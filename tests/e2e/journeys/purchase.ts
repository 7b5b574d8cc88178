import { expectEqual, expectHidden, expectText, parseTokens, type Journey } from "../harness";
import { periodEndText, signUpFromPricing, subscribe } from "../flows";

/** 1. Landing → pricing → sign up → Starter on hosted Checkout → /account with the plan, its renewal date and a full budget. */
export const purchaseJourney: Journey = {
  name: "purchase: landing, pricing, sign up, checkout, account",
  async run(ctx) {
    const { page } = ctx;
    await signUpFromPricing(ctx);
    await ctx.screenshot("pricing");
    await subscribe(ctx, "Starter", { checkoutScreenshot: "checkout" });

    ctx.step("check /account after checkout");
    await expectText(page.getByRole("status"), "Thank you! Your Starter plan is active.", "the thank-you note");
    await expectText(page.getByTestId("plan-name"), "Starter", "plan name");
    await expectText(page.getByTestId("plan-status"), "Status: Active", "plan status");
    await expectText(page.getByTestId("renews-on"), `Renews on ${await periodEndText(ctx)}`, "renewal date = Stripe's period end");
    await expectHidden(page.getByTestId("cancels-on"), "no cancellation date on a fresh plan");
    await expectHidden(page.getByTestId("payment-due-banner"), "no past-due banner");
    const meter = page.getByTestId("billing-panel").getByTestId("budget-meter");
    const budget = parseTokens(await expectText(meter.getByTestId("token-budget"), /\d/, "token budget"));
    expectEqual(budget, ctx.starterBudget, "Starter's token budget on /account");
    const remaining = parseTokens(await expectText(meter.getByTestId("tokens-remaining"), /\d/, "tokens remaining"));
    expectEqual(remaining, budget, "a new plan starts with the full budget");
    await expectText(page.getByTestId("account-email"), ctx.email, "the account is this user's");
    await ctx.screenshot("account");
  },
};

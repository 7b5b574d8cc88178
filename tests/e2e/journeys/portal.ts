import {
  expectAfterReloads,
  expectEqual,
  expectHidden,
  expectText,
  expectVisible,
  parseTokens,
  type Journey,
} from "../harness";
import { advancePastPeriodEnd, newSubscriber, openPortal, periodEndText, returnFromPortal } from "../flows";

/** 3. Portal: switch Starter → Pro, cancel at period end, let the period pass: back to free, chat asks to subscribe (402). */
export const portalJourney: Journey = {
  name: "portal: switch plan, cancel at period end, plan ends, chat 402",
  async run(ctx) {
    const { page, stack } = ctx;
    await newSubscriber(ctx, "Starter");
    const starterLeft = parseTokens(await expectText(page.getByTestId("tokens-remaining"), /\d/, "Starter's tokens left before the switch"));

    await openPortal(ctx);
    await expectText(page.getByText(/^Renews on /), `Renews on ${await periodEndText(ctx)}`, "the portal's renewal date");
    await ctx.screenshot("portal");
    ctx.step("switch to Pro");
    await page.getByRole("button", { name: "Switch to Hourglass Pro (per month)" }).click();
    // The portal first says what the switch costs today (the proration) and asks to confirm.
    await expectText(page.getByRole("heading", { level: 2 }), "Confirm your new plan", "the portal asks before switching");
    await expectText(page.getByTestId("proration-preview"), /Due today\s*\$\d+\.\d\d/, "the proration preview");
    await ctx.screenshot("portal-confirm-switch");
    await page.getByRole("button", { name: "Confirm switch" }).click();
    await expectText(page.getByRole("status"), "You switched to Hourglass Pro.", "the portal confirms the switch");
    await returnFromPortal(ctx);
    await expectAfterReloads(page, "/account shows Pro after the switch", async () => {
      await expectText(page.getByTestId("plan-name"), "Pro", "plan name", 1_000);
    });
    await expectText(page.getByTestId("plan-status"), "Status: Active", "plan status after the switch");
    const proBudget = parseTokens(await expectText(page.getByTestId("token-budget"), /\d/, "token budget"));
    expectEqual(proBudget, ctx.starterBudget * 5, "Pro's token budget on /account");
    // An upgrade raises what is left by the difference of the two budgets, and never reads as a loss.
    const proLeft = parseTokens(await expectText(page.getByTestId("tokens-remaining"), /\d/, "tokens left after the upgrade"));
    expectEqual(proLeft, starterLeft + proBudget - ctx.starterBudget, "tokens left rise by Pro's budget minus Starter's");
    expectEqual(await page.getByTestId("budget-meter").getAttribute("data-tone"), "ok", "the meter after an upgrade is not in the low colour");

    await openPortal(ctx);
    ctx.step("cancel at the end of the period");
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await expectText(page.getByText(/stays active until/), new RegExp(`stays active until ${await periodEndText(ctx)}`), "the portal says when the plan ends");
    await page.getByRole("button", { name: "Confirm cancellation" }).click();
    await expectText(page.getByRole("status"), "Your subscription will be canceled at the end of the period.", "the portal confirms");
    await expectVisible(page.getByRole("button", { name: "Don't cancel" }), "the portal offers to undo");
    await returnFromPortal(ctx);
    const cancelDate = await periodEndText(ctx);
    await expectAfterReloads(page, "/account shows the cancellation", async () => {
      await expectText(page.getByTestId("cancels-on"), `Cancels on ${cancelDate}`, "cancellation date", 1_000);
    });
    await expectText(page.getByTestId("plan-name"), "Pro", "still Pro until the period ends");
    await expectHidden(page.getByTestId("renews-on"), "no renewal date once cancellation is scheduled");

    ctx.step("advance the clock past the cancellation date");
    await advancePastPeriodEnd(ctx);
    await page.reload();
    await expectText(page.getByTestId("plan-name"), "Free", "plan name after the period ended");
    await expectText(page.getByTestId("plan-status"), "You are on the free tier.", "plan status after the period ended");
    await expectHidden(page.getByTestId("cancels-on"), "no cancellation date once the plan is gone");
    await expectHidden(page.getByTestId("budget-meter"), "no token budget on the free tier");
    await expectVisible(page.getByRole("link", { name: "See plans" }), "/account offers the plans again");

    ctx.step("chat shows the 402 state with a way to subscribe");
    await page.goto(stack.baseUrl + "/chat");
    const panel = page.getByTestId("chat-payment-required");
    await expectText(panel.getByRole("heading"), "Chat is part of the paid plans", "the 402 panel");
    await expectHidden(page.getByLabel("Message"), "no message box without a plan");
    await panel.getByRole("link", { name: "See plans" }).click();
    await expectText(page.getByRole("heading", { level: 1 }), "Pricing", "the 402 panel's link leads to pricing");
    await expectVisible(page.getByRole("button", { name: "Subscribe to Starter" }), "pricing offers Subscribe again");
  },
};

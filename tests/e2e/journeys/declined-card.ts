import { expectHidden, expectPath, expectText, expectVisible, type Journey } from "../harness";
import { DECLINED_CARD, fillCheckout, GOOD_CARD, signUpFromPricing } from "../flows";

/** 4. A declined card leaves the user on the free tier; once subscribed, /pricing offers "Manage billing", not a second plan. */
export const declinedCardJourney: Journey = {
  name: "declined card stays free; a subscriber's pricing offers Manage billing",
  async run(ctx) {
    const { page } = ctx;
    await signUpFromPricing(ctx);

    ctx.step("pay with the declined card");
    await page.getByRole("button", { name: "Subscribe to Starter" }).click();
    await fillCheckout(ctx, DECLINED_CARD);
    await expectText(page.getByRole("alert"), "Your card was declined.", "checkout shows the decline");
    await expectText(page.getByRole("heading", { level: 1 }), "Subscribe to Hourglass Starter", "still on checkout after the decline");

    ctx.step("go back to the app: still free");
    await page.getByRole("link", { name: "Back" }).click();
    await expectPath(page, "/pricing?checkout=canceled", "Checkout's Back link");
    await expectText(page.getByRole("status"), "Checkout was canceled. You have not been charged.", "pricing explains nothing was charged");
    await expectVisible(page.getByRole("button", { name: "Subscribe to Starter" }), "pricing still offers Subscribe");
    await page.getByTestId("session-email").click();
    await expectText(page.getByRole("heading", { level: 1 }), "Account", "account heading");
    await expectText(page.getByTestId("plan-name"), "Free", "plan after a declined card");
    await expectText(page.getByTestId("plan-status"), "You are on the free tier.", "status after a declined card");
    await expectHidden(page.getByTestId("budget-meter"), "no token budget after a declined card");

    ctx.step("subscribe with a good card after all");
    await page.getByRole("link", { name: "See plans" }).click();
    await page.getByRole("button", { name: "Subscribe to Starter" }).click();
    await fillCheckout(ctx, GOOD_CARD);
    await expectText(page.getByTestId("plan-name"), "Starter", "plan after paying with a good card", 20_000);

    ctx.step("a subscriber's second visit to /pricing");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pricing" }).click();
    const starter = page.getByTestId("plan-starter");
    await expectText(starter.getByText("Current plan"), "Current plan", "the Starter card marks the current plan");
    await expectVisible(starter.getByRole("button", { name: "Manage billing" }), "the Starter card offers Manage billing");
    await expectVisible(page.getByTestId("plan-pro").getByRole("button", { name: "Manage billing" }), "the Pro card changes plans through billing too");
    await expectHidden(page.getByRole("button", { name: /^Subscribe/ }), "no Subscribe button for a subscriber");
  },
};

import type { Page } from "playwright-core";
import { expectAfterReloads, expectHidden, expectPath, expectText, expectTrue, expectUrlPrefix, expectVisible, type Journey, type JourneyContext } from "../harness";
import { advancePastPeriodEnd, DECLINED_CARD, GOOD_CARD, newSubscriber, openPortal, returnFromPortal } from "../flows";

/** A card that the portal saves but every later charge declines (Stripe's 4000 0000 0000 0341). */
const FAILS_LATER_CARD = "4000 0000 0000 0341";

async function fillCard(page: Page, card: string): Promise<void> {
  await page.getByLabel("Card number").fill(card);
  await page.getByLabel("Expiry").fill("12 / 34");
  await page.getByLabel("CVC").fill("123");
}

async function expectNoSidewaysScroll(ctx: JourneyContext, what: string): Promise<void> {
  const { scrollWidth, innerWidth } = await ctx.page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expectTrue(scrollWidth <= innerWidth, `${what}: page is ${scrollWidth}px wide in a ${innerWidth}px viewport`);
}

/**
 * 8. Dunning: the renewal fails, every signed-in page says so with the invoice and the card update, chat keeps
 * working through the grace; a declined card on the invoice page changes nothing, a card saved through the banner's
 * card-update flow pays the invoice and the banner goes away.
 */
export const failedRenewalJourney: Journey = {
  name: "failed renewal: banner on every page, chat in the grace, card update recovers",
  async run(ctx) {
    const { page, stack } = ctx;
    await newSubscriber(ctx, "Starter");

    await openPortal(ctx);
    ctx.step("save a card that declines every later charge (0341)");
    await fillCard(page, FAILS_LATER_CARD);
    await page.getByRole("button", { name: "Update card" }).click();
    await expectText(page.getByRole("status"), "Your card ending in 0341 was saved.", "the portal saves the 0341 card");
    await returnFromPortal(ctx);
    await expectHidden(page.getByTestId("payment-due-banner"), "no payment banner while paid up");

    await advancePastPeriodEnd(ctx);
    ctx.step("the renewal failed: /account");
    await expectAfterReloads(page, "/account shows the plan past due", async () => {
      await expectText(page.getByTestId("plan-status"), "Status: Past due", "plan status", 1_000);
    });
    const banner = page.getByTestId("payment-due-banner");
    await expectText(banner.getByText("Your last payment failed."), "Your last payment failed.", "the banner's headline");
    await expectText(banner.getByTestId("payment-due-grace"), /^Chat keeps working until \w+ \d{1,2}, \d{4}, \d\d:\d\d UTC\.$/, "how long chat keeps working");
    await expectVisible(page.getByTestId("billing-panel").getByRole("button", { name: "Update payment method" }), "the account's one action");
    await ctx.screenshot("payment-failed-account");

    ctx.step("every signed-in page shows the banner; chat still answers in the grace");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pricing" }).click();
    await expectPath(page, "/pricing", "pricing from the header");
    await expectVisible(banner, "the banner on /pricing");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
    await expectPath(page, /^\/chat/, "chat from the header");
    await expectVisible(banner, "the banner on /chat");
    await page.getByLabel("Message").fill("hello");
    await page.getByRole("button", { name: "Send" }).click();
    await expectVisible(page.getByTestId("message-assistant").first(), "an answer during the grace", 20_000);
    await expectHidden(page.getByTestId("chat-payment-overdue"), "chat is not paused during the grace");

    ctx.step("at a phone's width the banner fits");
    await page.setViewportSize({ width: 390, height: 844 });
    await expectVisible(banner.getByTestId("pay-invoice-link"), "the invoice link on a phone");
    await expectNoSidewaysScroll(ctx, "/chat with the banner at 390px");
    await page.setViewportSize({ width: 1280, height: 800 });

    ctx.step("the invoice page refuses a declined card");
    await banner.getByTestId("pay-invoice-link").click();
    await expectUrlPrefix(page, `${stack.stripeSandboxUrl}/invoice/`, "the banner links the hosted invoice");
    await expectText(page.getByRole("heading", { level: 2, name: "Pay this invoice" }), "Pay this invoice", "the open invoice can be paid");
    await fillCard(page, DECLINED_CARD);
    await page.getByRole("button", { name: /^Pay \$/ }).click();
    await expectText(page.getByRole("alert"), /declined/, "the invoice page shows the decline");
    await page.goBack();
    await page.goBack();
    await expectPath(page, /^\/chat/, "back in the app");

    ctx.step("update the card from the banner: the portal's card form alone, then back to /account");
    await page.reload();
    await banner.getByRole("button", { name: "Update card" }).click();
    await expectUrlPrefix(page, `${stack.stripeSandboxUrl}/portal/`, "Update card opens the portal", 20_000);
    await expectText(page.getByRole("heading", { level: 2, name: "Update payment method" }), "Update payment method", "the card-update flow");
    await expectHidden(page.getByRole("button", { name: "Cancel subscription" }), "the flow shows nothing but the card form");
    await fillCard(page, GOOD_CARD);
    await page.getByRole("button", { name: "Save card" }).click();
    await expectPath(page, "/account?card=updated", "the flow returns to the account page", 20_000);
    await expectVisible(page.getByTestId("card-updated"), "the account says the card was saved");
    await expectAfterReloads(page, "the invoice is paid and the banner gone", async () => {
      await expectText(page.getByTestId("plan-status"), "Status: Active", "plan status after paying", 1_000);
      await expectHidden(page.getByTestId("payment-due-banner"), "no banner once paid", 1_000);
    });
  },
};

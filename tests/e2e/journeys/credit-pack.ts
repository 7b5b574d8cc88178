import { expectEqual, expectPath, expectText, expectTrue, expectUrlPrefix, expectVisible, parseTokens, type Journey } from "../harness";
import { GOOD_CARD, fillCheckout, newSubscriber } from "../flows";
import { ask, QUESTIONS, tokensLeft, type AfterSend } from "./chat-budget";
import { axeViolations, overflow } from "./page-audit";

const PACK_TOKENS = 1_000_000;
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };

/** After a 429, buy a credit pack by keyboard through hosted Checkout, come back to chat and keep chatting on it. */
export const creditPackJourney: Journey = {
  name: "credit pack: budget exhausted (429), buy 1,000,000 tokens for $5, keep chatting, meter and /usage show the pack",
  async run(ctx) {
    const { page, stack } = ctx;
    await newSubscriber(ctx);

    ctx.step("chat until the period's budget is gone");
    await page.goto(stack.baseUrl + "/chat");
    let outcome: AfterSend = "answered";
    for (let turn = 0; turn < 30 && outcome !== "exhausted"; turn++) {
      if (outcome === "too-long") await page.getByRole("button", { name: "New chat" }).first().click();
      outcome = await ask(ctx, QUESTIONS[turn % QUESTIONS.length] ?? "hello");
    }
    expectEqual(outcome, "exhausted", "chatting long enough ends in the budget-exhausted state");
    const buy = page.getByRole("button", { name: "Buy 1,000,000 tokens for $5" });
    await expectVisible(buy, "the exhausted panel offers the credit pack");

    ctx.step("the offer fits a phone and passes axe");
    await page.setViewportSize(PHONE);
    await buy.scrollIntoViewIfNeeded();
    expectEqual(await overflow(page), null, "nothing wider than a 390 px window");
    const violations = await axeViolations(page);
    expectTrue(violations.length === 0, `no serious axe violation on the exhausted panel: ${JSON.stringify(violations)}`);
    await ctx.screenshot("chat-credit-pack-offer");
    await page.setViewportSize(LAPTOP);

    ctx.step("buy the pack by keyboard");
    await buy.focus();
    await page.keyboard.press("Enter");
    await expectUrlPrefix(page, `${ctx.stack.stripeSandboxUrl}/checkout/`, "the button opens the hosted checkout", 20_000);
    await expectText(page.getByTestId("checkout-total"), "$5.00", "the pack's price on the hosted page");
    await fillCheckout(ctx, GOOD_CARD, { heading: /^Pay /, submit: "Pay" });
    await expectPath(page, /^\/chat\?credits=success&session_id=cs_/, "Checkout returns to chat", 20_000);
    await expectVisible(page.getByTestId("credits-added"), "chat says the pack was added");
    expectEqual(parseTokens(await expectText(page.getByTestId("pack-tokens"), /\d/, "pack tokens on the meter")), PACK_TOKENS, "the meter shows the pack's tokens");
    expectEqual(await tokensLeft(page), 0, "the period's budget is still used up");

    ctx.step("keep chatting on the pack");
    expectEqual(await ask(ctx, "hello"), "answered", "chat answers again after buying the pack");
    const used = parseTokens(await expectText(page.getByTestId("last-usage"), /^Last answer used [\d,]+ tokens/, "last usage"));
    await expectText(page.getByTestId("pack-tokens"), (PACK_TOKENS - used).toLocaleString("en-US"), "the pack's tokens drop by the answer's");
    await ctx.screenshot("chat-credit-pack");

    ctx.step("/usage lists the pack with what is left and its expiry");
    await page.goto(stack.baseUrl + "/usage");
    const row = page.getByTestId("credit-pack-row");
    await expectText(row, /Active/, "the pack is active");
    const left = parseTokens(await expectText(page.getByTestId("credit-pack-left"), /\d/, "tokens left in the pack"));
    expectTrue(left === PACK_TOKENS - used, `the pack has ${PACK_TOKENS - used} tokens left (usage says ${left})`);

    ctx.step("/usage: today's tokens are every answer's charge, the period's whole budget and the pack's answer");
    const today = new Date().toISOString().slice(0, 10);
    const charged = (ctx.starterBudget + used).toLocaleString("en-US");
    await expectText(page.getByTestId("usage-current-total"), new RegExp(`^${charged} tokens`), "this period's total");
    await expectText(page.getByTestId("usage-current").locator("tbody tr").first(), new RegExp(`^${today}\\s+Fast\\s+${charged}\\s`), "today's row");
    await ctx.screenshot("usage");
  },
};

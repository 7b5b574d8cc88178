import { addMonthsClamped } from "@/server/billing/budget-window";
import { expectEqual, expectPath, expectText, expectTrue, formatDateLikeApp, parseTokens, type Journey } from "../harness";
import { advanceClock, fillCheckout, GOOD_CARD, latestSubscription, sandboxStripe, signUpFromPricing } from "../flows";
import { ask, tokensLeft } from "./chat-budget";

/**
 * 12. A yearly plan: chosen with /pricing's switch, billed once for the year, and its chat budget refills every month
 * on the subscription's anniversary day with no invoice. The customer's test clock moves a month on (the wall clock
 * does not): the chat's meter is full again, resets a month later, and Stripe has issued nothing new.
 */
export const yearlyRefillJourney: Journey = {
  name: "yearly plan: billed once, a month on (test clock) the budget refills with no invoice",
  async run(ctx) {
    const { page, stack } = ctx;
    await signUpFromPricing(ctx);

    ctx.step("switch /pricing to yearly prices and subscribe to Starter");
    await page.getByTestId("interval-year").click();
    await expectPath(page, "/pricing?interval=yearly", "the yearly switch");
    await expectText(page.getByTestId("plan-starter"), /\$90/, "Starter's yearly price (ten months)");
    await page.getByRole("button", { name: "Subscribe to Starter" }).click();
    await fillCheckout(ctx, GOOD_CARD);
    await expectPath(page, /^\/account\?checkout=success&session_id=cs_/, "Checkout's success redirect", 20_000);
    await expectText(page.getByTestId("plan-name"), "Starter", "account plan name");
    await expectText(page.getByTestId("billing-interval"), /^Billed yearly/, "the account names the yearly billing");

    const subscription = await latestSubscription(ctx);
    expectEqual(subscription.items.data[0]?.price.recurring?.interval, "year", "Stripe bills the yearly price");
    const anchor = new Date(subscription.billing_cycle_anchor * 1000);
    await expectText(page.getByTestId("renews-on"), `Renews on ${formatDateLikeApp(addMonthsClamped(anchor, 12))}`, "renews after a year");
    await expectText(page.getByTestId("budget-meter"), new RegExp(`Resets on ${formatDateLikeApp(addMonthsClamped(anchor, 1))}$`), "the budget resets after a month");

    ctx.step("chat once: the meter drops");
    await page.goto(stack.baseUrl + "/chat");
    expectEqual(await tokensLeft(page), ctx.starterBudget, "the meter starts full");
    expectEqual(await ask(ctx, "hello"), "answered", "the first answer");
    const spent = ctx.starterBudget - (await tokensLeft(page));
    expectTrue(spent > 0, `the answer was charged (${spent} tokens)`);

    ctx.step("the customer's test clock moves a month and an hour on");
    await advanceClock(ctx, Math.floor(addMonthsClamped(anchor, 1).getTime() / 1000) + 3600);
    await page.goto(stack.baseUrl + "/chat");
    expectEqual(await tokensLeft(page), ctx.starterBudget, "the new month's budget is full");
    await expectText(page.getByTestId("budget-meter"), new RegExp(`Resets on ${formatDateLikeApp(addMonthsClamped(anchor, 2))}$`), "it resets a month later");
    expectEqual(await ask(ctx, "hello"), "answered", "chat in the new month");
    const usage = parseTokens(await expectText(page.getByTestId("last-usage"), /^Last answer used [\d,]+ tokens/, "last usage"));
    expectEqual(await tokensLeft(page), ctx.starterBudget - usage, "the new month's answer is charged to the new month's budget");

    ctx.step("no invoice for the month: one paid invoice for the whole year");
    const invoices = await sandboxStripe(ctx).invoices.list({ customer: String(subscription.customer), limit: 10 });
    expectEqual(
      invoices.data.map((invoice) => `${invoice.billing_reason} ${invoice.status} ${invoice.amount_paid}`).join("; "),
      "subscription_create paid 9000",
      "the year's invoice, and nothing for the new month",
    );
    await page.goto(stack.baseUrl + "/account");
    await expectText(page.getByTestId("renews-on"), `Renews on ${formatDateLikeApp(addMonthsClamped(anchor, 12))}`, "the year's renewal date is unchanged");
  },
};

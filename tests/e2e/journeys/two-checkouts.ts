import { expectEqual, expectPath, expectText, expectUrlPrefix, type Journey } from "../harness";
import { fillCheckout, GOOD_CARD, latestSubscription, sandboxStripe, signUpFromPricing } from "../flows";

/**
 * 9. Two tabs, two Checkouts: Starter opened in one tab, then Pro in another. Opening the second expires the first,
 * so paying the first tab is refused and the customer ends with exactly one subscription, the one paid for.
 * (Two sessions completed before either webhook, which a browser cannot stage, are the sync's case: one-subscription.test.ts.)
 */
export const twoCheckoutsJourney: Journey = {
  name: "two checkout tabs: the older one expires, one subscription",
  async run(ctx) {
    const { page } = ctx;
    await signUpFromPricing(ctx);

    ctx.step("tab 1: open Checkout for Starter");
    await page.getByRole("button", { name: "Subscribe to Starter" }).click();
    await expectUrlPrefix(page, `${ctx.stack.stripeSandboxUrl}/checkout/`, "tab 1 on Checkout", 20_000);
    await expectText(page.getByRole("heading", { level: 1 }), "Subscribe to Hourglass Starter", "tab 1's checkout");

    ctx.step("tab 2 (same session): open Checkout for Pro and pay");
    const second = await page.context().newPage();
    try {
      await second.goto(`${ctx.stack.baseUrl}/pricing`);
      await second.getByRole("button", { name: "Subscribe to Pro" }).click();
      await expectUrlPrefix(second, `${ctx.stack.stripeSandboxUrl}/checkout/`, "tab 2 on Checkout", 20_000);
      await fillCheckout({ ...ctx, page: second }, GOOD_CARD);
      await expectPath(second, /^\/account\?checkout=success/, "tab 2's success redirect", 20_000);
      await expectText(second.getByTestId("plan-name"), "Pro", "tab 2's account shows Pro");
    } finally {
      await second.close();
    }

    ctx.step("tab 1: paying the older Checkout is refused");
    await page.reload();
    await expectText(page.getByRole("heading", { level: 1 }), "This checkout has expired", "tab 1's checkout expired when tab 2 opened");

    const subscription = await latestSubscription(ctx);
    const all = await sandboxStripe(ctx).subscriptions.list({ customer: String(subscription.customer), status: "all" });
    expectEqual(all.data.length, 1, "the customer has exactly one subscription");
    expectEqual(subscription.items.data[0]?.price.lookup_key, "hourglass_pro_monthly", "the subscription is the Pro one paid in tab 2");
  },
};

import { expectAfterReloads, expectEqual, expectPath, expectText, expectUrlPrefix, expectVisible, type Journey } from "../harness";
import { advanceClock, fillCheckout, GOOD_CARD, latestSubscription, openPortal, sandboxStripe, signUpFromPricing } from "../flows";

/**
 * 9. Two tabs, two Checkouts: Starter opened in one tab, then Pro in another. Opening the second expires the first,
 * so paying the first tab is refused. Then the race that expiry cannot stop: a second session created at the same
 * instant as the first (before either could expire the other; made here through the API) is paid too. The sync keeps
 * the older subscription, cancels the newer and refunds it: the portal shows one subscription and one refund.
 */
export const twoCheckoutsJourney: Journey = {
  name: "two checkout tabs: the older one expires; both paid leaves one subscription and one refund",
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

    const stripe = sandboxStripe(ctx);
    const subscription = await latestSubscription(ctx);
    const customer = String(subscription.customer);
    const all = await stripe.subscriptions.list({ customer, status: "all" });
    expectEqual(all.data.length, 1, "the customer has exactly one subscription");
    expectEqual(subscription.items.data[0]?.price.lookup_key, "hourglass_pro_monthly", "the subscription is the Pro one paid in tab 2");

    ctx.step("the race: a Starter session created alongside, paid a minute later");
    // The customer's test clock stands still: move it on a minute, as a person switching tabs would take, so the two
    // subscriptions are not created in the same second (a tie the sync breaks by id, not by age).
    await advanceClock(ctx, subscription.created + 60);
    const starterPrice = (await stripe.prices.list({ lookup_keys: ["hourglass_starter_monthly"] })).data[0];
    if (!starterPrice) throw new Error("no Starter price in the sandbox");
    const raced = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer,
      billing_address_collection: "required",
      line_items: [{ price: starterPrice.id, quantity: 1 }],
      success_url: `${ctx.stack.baseUrl}/account?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${ctx.stack.baseUrl}/pricing?checkout=canceled`,
    });
    await page.goto(raced.url ?? "");
    await fillCheckout(ctx, GOOD_CARD);
    await expectPath(page, /^\/account\?checkout=success/, "the raced session's success redirect", 20_000);
    await expectAfterReloads(page, "/account keeps the older plan, Pro", async () => {
      await expectText(page.getByTestId("plan-name"), "Pro", "plan after both were paid", 1_000);
    });
    const live = (await stripe.subscriptions.list({ customer, status: "all" })).data.filter((sub) => sub.status !== "canceled");
    expectEqual(live.map((sub) => sub.id).join(", "), subscription.id, "one live subscription, the older Pro one");

    await openPortal(ctx);
    await expectText(page.getByRole("heading", { level: 2 }).first(), "Current plan", "the portal's plan section");
    await expectVisible(page.getByText("Hourglass Pro").first(), "the portal shows the Pro subscription");
    await expectText(page.getByTestId("invoice-refunded"), "Refunded", "the raced payment shows as refunded in the invoice history");
  },
};

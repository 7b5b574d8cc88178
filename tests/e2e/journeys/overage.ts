import type { Page } from "playwright-core";
import { expectEqual, expectText, expectTrue, expectVisible, parseTokens, type Journey, type JourneyContext } from "../harness";
import { advancePastPeriodEnd, latestSubscription, newSubscriber, sandboxStripe } from "../flows";

const QUESTIONS = ["hello", "What is a good name for a cat?", "Tell me about billing and plans."];
/** Starter's overage price, per 1,000 tokens (server/billing/plans.ts), and the cap set here: 1,000 tokens. */
const CENTS_PER_1000 = 2;
const CAP_DOLLARS = "0.02";
const STARTER_CENTS = 900;

type AfterSend = "answered" | "exhausted" | "too-long";

/** Types a question, presses Send and waits for the answer (or the refusal) to settle. */
async function ask(page: Page, question: string): Promise<AfterSend> {
  const assistantMessages = page.getByTestId("message-assistant");
  const answersBefore = await assistantMessages.count();
  await page.getByLabel("Message").fill(question);
  await page.getByRole("button", { name: "Send" }).click();
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (await page.getByTestId("chat-budget-exhausted").isVisible()) return "exhausted";
    if (await page.getByTestId("chat-conversation-too-long").isVisible()) return "too-long";
    const answered = (await assistantMessages.count()) > answersBefore && (await page.getByRole("button", { name: "Send" }).isVisible());
    if (answered) return "answered";
    if (Date.now() > deadline) throw new Error(`no answer, 429 or notice within 20s after asking ${JSON.stringify(question)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function noHorizontalOverflow(page: Page, what: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expectTrue(overflow <= 0, `${what}: the page is ${overflow}px wider than the window`);
}

/** Waits until the app's meter deliverer has sent the period's overage to Stripe; returns the meter's sum. */
async function reportedOverage(ctx: JourneyContext, start: number, end: number, atLeast: number): Promise<number> {
  const stripe = sandboxStripe(ctx);
  const subscription = await latestSubscription(ctx);
  const meter = subscription.items.data.find((item) => item.price.recurring?.usage_type === "metered")?.price.recurring?.meter;
  if (!meter) throw new Error("the subscription has no metered item");
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [summary] = (await stripe.billing.meters.listEventSummaries(meter, { customer: String(subscription.customer), start_time: start, end_time: end })).data;
    const value = summary?.aggregated_value ?? 0;
    if (value >= atLeast) return value;
    if (Date.now() > deadline) throw new Error(`the meter reached ${value} overage tokens, expected at least ${atLeast} within 30s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Metered overage (BILLING_OVERAGE=1): a cap on /account, chat past the budget with the meter's alerts, the cap, the invoice. */
export const overageJourney: Journey = {
  name: "overage: cap on /account, chat past the budget, alerts, cap reached, overage on the next invoice",
  async run(ctx) {
    const { page, stack } = ctx;
    await newSubscriber(ctx);

    ctx.step("set a monthly overage cap on /account");
    await expectText(page.getByTestId("overage-cap-status"), "Overage is off.", "no overage before a cap is set");
    await page.getByLabel("Monthly cap (USD)").fill(CAP_DOLLARS);
    await page.getByRole("button", { name: "Save cap" }).click();
    await expectText(page.getByTestId("overage-cap-status"), /^Up to 1,000 overage tokens a month; 0 used this period\.$/, "the saved cap in tokens");
    await page.reload();
    await expectText(page.getByTestId("overage-cap-status"), /Up to 1,000 overage tokens/, "the cap after a reload");

    ctx.step("chat through the budget: then answers count as overage, until the cap");
    await page.goto(stack.baseUrl + "/chat");
    // Each refusal's reason, in the journey's log.
    page.on("response", (response) => {
      if (new URL(response.url()).pathname === "/api/chat" && response.status() !== 200) {
        void response.text().then((body) => ctx.step(`  /api/chat answered ${response.status()}: ${body.slice(0, 300)}`), () => undefined);
      }
    });
    const levels = new Set<string>();
    let outcome: AfterSend = "answered";
    for (let turn = 0; turn < 40 && outcome !== "exhausted"; turn++) {
      if (outcome === "too-long") await page.getByRole("button", { name: "New chat" }).first().click();
      outcome = await ask(page, QUESTIONS[turn % QUESTIONS.length] ?? "hello");
      const level = await page.getByTestId("budget-alert").getAttribute("data-level", { timeout: 1_000 }).catch(() => null);
      // The first answer past the budget, for the README.
      if (level === "overage" && !levels.has(level)) await ctx.screenshot("chat-overage");
      if (level) levels.add(level);
      ctx.step(`  turn ${turn}: ${outcome}${level ? ` (${level})` : ""}`);
    }
    expectEqual(outcome, "exhausted", "chatting long enough reaches the cap");
    expectTrue(levels.has("overage"), `answers past the budget counted as overage (alerts seen: ${[...levels].join(", ")})`);
    await expectVisible(page.locator("[data-testid=budget-alert][data-level=overage-cap]"), "the cap-reached alert");
    await expectText(page.getByTestId("budget-alert"), /reached your overage cap \(1,000 tokens\)/, "the alert names the cap");
    await ctx.screenshot("chat-overage-cap");

    ctx.step("at 390 px the alert and the panel fit the screen");
    await page.setViewportSize({ width: 390, height: 844 });
    await noHorizontalOverflow(page, "/chat at 390 px");
    await ctx.screenshot("chat-overage-cap-390");
    await page.goto(stack.baseUrl + "/account#overage");
    await noHorizontalOverflow(page, "/account at 390 px");
    const used = parseTokens((await expectText(page.getByTestId("overage-cap-status"), /; [\d,]+ used this period/, "the overage used on /account")).split(";")[1] ?? "");
    expectTrue(used > 0 && used <= 1_000, `the overage used stays under the cap (${used})`);
    await page.setViewportSize({ width: 1280, height: 800 });

    ctx.step("the meter deliverer reports the overage to Stripe");
    const item = (await latestSubscription(ctx)).items.data[0];
    if (!item) throw new Error("subscription without items");
    const metered = await reportedOverage(ctx, item.current_period_start, item.current_period_end, used);
    expectEqual(metered, used, "Stripe's meter counted each answer's overage once");

    ctx.step("advance past the period end: the renewal invoice carries the overage line");
    await advancePastPeriodEnd(ctx);
    const stripe = sandboxStripe(ctx);
    const [renewal] = (await stripe.invoices.list({ subscription: (await latestSubscription(ctx)).id, limit: 1 })).data;
    const overageCents = Math.ceil(used / 1000) * CENTS_PER_1000;
    expectEqual(renewal?.billing_reason, "subscription_cycle", "the latest invoice is the renewal");
    expectEqual(renewal?.total, STARTER_CENTS + overageCents, "the renewal invoice is the plan plus the overage");
    if (!renewal?.hosted_invoice_url) throw new Error("the renewal has no hosted page");
    await page.goto(renewal.hosted_invoice_url);
    await expectText(page.getByRole("region", { name: "Invoice lines" }), new RegExp(`${used.toLocaleString("en-US").replace(/,/g, ",?")}\\s*× Hourglass Starter`), "the invoice's overage line");
    await ctx.screenshot("overage-invoice");
  },
};

import type { Page } from "playwright-core";
import {
  expectEqual,
  expectHidden,
  expectPath,
  expectText,
  expectTrue,
  expectVisible,
  parseTokens,
  type Journey,
  type JourneyContext,
} from "../harness";
import { advancePastPeriodEnd, newSubscriber, periodEndText } from "../flows";

export const QUESTIONS = [
  "How does the token budget work?",
  "Tell me about billing and plans.",
  "hello",
  "What is a good name for a cat?",
];

export async function tokensLeft(page: Page): Promise<number> {
  return parseTokens(await expectText(page.getByTestId("tokens-remaining"), /\d/, "tokens remaining on the meter"));
}

export type AfterSend = "answered" | "exhausted" | "too-long";

/** Types a question, presses Send and waits for the answer (or the refusal) to settle. */
export async function ask(ctx: JourneyContext, question: string): Promise<AfterSend> {
  const { page } = ctx;
  const assistantMessages = page.getByTestId("message-assistant");
  const answersBefore = await assistantMessages.count();
  await page.getByLabel("Message").fill(question);
  await page.getByRole("button", { name: "Send" }).click();
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (await page.getByTestId("chat-budget-exhausted").isVisible()) return "exhausted";
    if (await page.getByTestId("chat-conversation-too-long").isVisible()) return "too-long";
    const answered =
      (await assistantMessages.count()) > answersBefore &&
      (await page.getByRole("button", { name: "Send" }).isVisible()) &&
      (await page.getByTestId("last-usage").isVisible());
    if (answered) return "answered";
    if (Date.now() > deadline) throw new Error(`no answer, 429 or notice within 20s after asking ${JSON.stringify(question)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** 2. Chat: an answer streams in and the meter drops by its tokens; chat until the 429 state; a renewal refills the budget. */
export const chatBudgetJourney: Journey = {
  name: "chat: streamed answer, meter, budget exhausted (429), renewal refills",
  async run(ctx) {
    const { page, stack } = ctx;
    await newSubscriber(ctx);
    const chatStatuses: number[] = [];
    page.on("response", (response) => {
      if (new URL(response.url()).pathname === "/api/chat") chatStatuses.push(response.status());
    });

    ctx.step("open /chat from the header");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
    await expectText(page.getByRole("heading", { level: 1 }), "Chat", "chat heading");
    expectEqual(await tokensLeft(page), ctx.starterBudget, "the meter starts full");

    ctx.step("first question: the answer streams in");
    await page.getByLabel("Message").fill("How does the token budget work?");
    await page.getByRole("button", { name: "Send" }).click();
    await expectText(page.getByTestId("message-user").last(), /How does the token budget work\?/, "the question in the log");
    // While it streams, the Stop button replaces Send and the assistant's text grows word by word.
    await expectVisible(page.getByRole("button", { name: "Stop" }), "Stop while the answer streams", 5_000);
    await expectText(page.getByTestId("message-assistant").last(), /Every subscription comes with a token budget/, "the assistant's answer");
    await expectVisible(page.getByRole("button", { name: "Send" }), "Send again after the answer");
    const usage = parseTokens(await expectText(page.getByTestId("last-usage"), /^Last answer used [\d,]+ tokens \(prompt \+ answer\)$/, "last usage"));
    expectTrue(usage > 0, `an answer costs tokens (last-usage says ${usage})`);
    expectEqual(await tokensLeft(page), ctx.starterBudget - usage, "the meter drops by exactly the tokens used");
    await ctx.screenshot("chat");

    ctx.step("second question: the meter drops again by that answer's tokens");
    const before = await tokensLeft(page);
    expectEqual(await ask(ctx, "Tell me about billing and plans."), "answered", "second question answered");
    const secondUsage = parseTokens(await expectText(page.getByTestId("last-usage"), /^Last answer used [\d,]+ tokens \(prompt \+ answer\)$/, "last usage"));
    expectEqual(await tokensLeft(page), before - secondUsage, "the meter after the second answer");

    // A second tab opened now still shows tokens left after the first one has spent them: its next question is
    // the one the server refuses with a 429.
    ctx.step("open /chat in a second tab while tokens are left");
    const secondTab = await page.context().newPage();
    await secondTab.goto(stack.baseUrl + "/chat");
    expectTrue((await tokensLeft(secondTab)) > 0, "the second tab shows tokens left");

    ctx.step("keep chatting until the budget is gone");
    let outcome: AfterSend = "answered";
    for (let turn = 0; turn < 30 && outcome !== "exhausted"; turn++) {
      if (outcome === "too-long") {
        // The history alone no longer fits what is left: start over with a short question, as the notice suggests.
        await page.getByRole("button", { name: "New chat" }).first().click();
      }
      outcome = await ask(ctx, QUESTIONS[turn % QUESTIONS.length] ?? "hello");
      ctx.step(`  turn ${turn}: ${outcome}`);
    }
    expectEqual(outcome, "exhausted", "chatting long enough ends in the budget-exhausted state");
    ctx.step(`/api/chat answered ${chatStatuses.join(", ")}`);

    const resetDate = await periodEndText(ctx);
    await expectText(page.getByTestId("budget-resets-on"), new RegExp(`Your budget resets on ${resetDate}\\.`), "the 429 state names the reset date");
    expectEqual(await tokensLeft(page), 0, "the meter shows nothing left");
    await expectHidden(page.getByLabel("Message"), "no message box while the budget is exhausted");
    await page.getByTestId("chat-budget-exhausted").scrollIntoViewIfNeeded();
    await ctx.screenshot("chat-budget-exhausted");

    ctx.step("the second tab, still showing tokens left, asks: the server answers 429 with the reset date");
    await secondTab.getByLabel("Message").fill("One more question?");
    const [refusal] = await Promise.all([
      secondTab.waitForResponse((response) => new URL(response.url()).pathname === "/api/chat"),
      secondTab.getByRole("button", { name: "Send" }).click(),
    ]);
    expectEqual(refusal.status(), 429, "/api/chat refuses the second tab's question");
    const retryAfter = Number(refusal.headers()["retry-after"]);
    expectTrue(Number.isInteger(retryAfter) && retryAfter > 0, `Retry-After is a number of seconds (got ${refusal.headers()["retry-after"]})`);
    const refusalBody = (await refusal.json()) as { error?: { code?: string; tokensRemaining?: number; resetsAt?: string } };
    expectEqual(refusalBody.error?.code, "TOO_MANY_REQUESTS", "the 429's error code");
    expectEqual(refusalBody.error?.tokensRemaining, 0, "the 429 says no tokens remain");
    expectTrue(typeof refusalBody.error?.resetsAt === "string", "the 429 says when the budget resets");
    await expectText(secondTab.getByTestId("budget-resets-on"), new RegExp(`Your budget resets on ${resetDate}\\.`), "the second tab shows the 429 state");
    expectEqual(await tokensLeft(secondTab), 0, "the second tab's meter drops to 0");
    // The refused question was that new chat's first: nothing was saved, so the URL names no chat to reload.
    await expectPath(secondTab, "/chat", "a refused first question leaves no chat id in the URL");
    await secondTab.reload();
    await expectVisible(secondTab.getByTestId("chat-budget-exhausted"), "after a reload, the exhausted state, not a missing chat");
    await secondTab.close();

    ctx.step("reload: still exhausted (the server agrees)");
    await page.reload();
    await expectVisible(page.getByTestId("chat-budget-exhausted"), "the 429 state after a reload");

    ctx.step("advance the test clock past the period end: the renewal refills the budget");
    await advancePastPeriodEnd(ctx);
    await page.goto(stack.baseUrl + "/chat");
    await expectHidden(page.getByTestId("chat-budget-exhausted"), "the exhausted panel is gone after the renewal");
    expectEqual(await tokensLeft(page), ctx.starterBudget, "the budget is full again after the renewal");
    await expectText(page.getByTestId("budget-meter"), new RegExp(`Resets on ${await periodEndText(ctx)}`), "the meter names the new period end");
    expectEqual(await ask(ctx, "hello"), "answered", "chat works again after the renewal");
  },
};

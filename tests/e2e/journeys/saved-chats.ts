import type { Page } from "playwright-core";
import {
  expectEqual,
  expectHidden,
  expectInputValue,
  expectPath,
  expectText,
  expectTrue,
  expectVisible,
  type Journey,
  type JourneyContext,
} from "../harness";
import { newSubscriber } from "../flows";

const FIRST = "How does the token budget work?";
const SECOND = "Tell me about billing and plans.";
const OTHER = "What is a good name for a cat?";
const FOLLOW_UP = "hello";

/** A message's text (after its screen-reader label "You:" / "Assistant:"). */
const saying = (text: string) => new RegExp(`${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);

const sidebar = (page: Page) => page.getByTestId("chat-sidebar");
const chatTitles = (page: Page) => sidebar(page).getByTestId("chat-link").allInnerTexts();

/** The open chat's id, from the URL (/chat?c=<id>). */
function openChatId(page: Page): string | null {
  return new URL(page.url()).searchParams.get("c");
}

/** Sends a question and waits for its answer to finish (its token count shown). */
async function ask(ctx: JourneyContext, question: string): Promise<void> {
  const { page } = ctx;
  const answers = await page.getByTestId("message-assistant").count();
  await page.getByLabel("Message").fill(question);
  await page.getByRole("button", { name: "Send" }).click();
  await expectText(page.getByTestId("message-assistant").nth(answers), /tokens \(prompt \+ answer\)/, `the answer to ${JSON.stringify(question)}`, 20_000);
  await expectVisible(page.getByRole("button", { name: "Send" }), `Send again after the answer to ${JSON.stringify(question)}`);
}

/** The conversation on screen: each message's role and its text (an answer's first line only). */
async function conversation(page: Page): Promise<string[]> {
  return page.locator('[data-testid="chat-log"] [data-testid^="message-"]').evaluateAll((elements) =>
    elements.map((element) => `${element.getAttribute("data-testid")?.replace("message-", "")}: ${(element.querySelector("div")?.textContent ?? "").split("\n")[0]}`),
  );
}

async function expectSidebar(page: Page, expected: string[], what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await chatTitles(page);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: expected the sidebar to list ${JSON.stringify(expected)}, it lists ${JSON.stringify(seen)}`);
}

/** Saved chats: two questions, a reload that keeps them, rename, a new chat, reopening and continuing the first, delete. */
export const savedChatsJourney: Journey = {
  name: "saved chats: reload keeps the chat, rename, new chat, reopen and continue, delete, the drawer on a phone",
  async run(ctx) {
    const { page, stack } = ctx;
    // Pro: five times Starter's budget, enough for the six answers below however long the chat grows.
    await newSubscriber(ctx, "Pro");
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => dialogs.push(dialog.type()));

    ctx.step("open /chat: no saved chats yet");
    await page.goto(stack.baseUrl + "/chat");
    await expectText(sidebar(page), /No saved chats yet/, "an empty sidebar says so");
    expectEqual(openChatId(page), null, "a new chat has no id in the URL");

    ctx.step("pick a model: Pro includes two, the small one is the default");
    const picker = page.getByLabel("Model");
    await expectInputValue(picker, "small", "the plan's default model is preselected");
    await expectText(page.locator("#chat-model-description"), /each token counts once/, "the small model's price is described");
    await picker.selectOption("large");
    await expectText(page.locator("#chat-model-description"), /input counts 4x, output 16x/, "the large model's weights are described");

    ctx.step("two questions: the chat is saved under the id the URL now names");
    await ask(ctx, FIRST);
    const firstId = openChatId(page);
    expectTrue(firstId !== null && /^[\w-]{1,100}$/.test(firstId), `the URL names the chat after its first question (${page.url()})`);
    await expectSidebar(page, [FIRST], "the new chat is listed, titled by its first question");
    await expectText(sidebar(page).locator('a[aria-current="page"]'), FIRST, "the open chat is marked in the sidebar");
    await ask(ctx, SECOND);
    expectEqual(openChatId(page), firstId, "the second question stays in the same chat");
    const twoAnswers = await conversation(page);
    expectEqual(twoAnswers.length, 4, `two questions and two answers on screen (${JSON.stringify(twoAnswers)})`);

    ctx.step("reload: no warning, the chat reopens with both questions and answers");
    await page.reload();
    await expectPath(page, `/chat?c=${firstId}`, "the reload stays on the chat");
    await expectText(page.getByTestId("message-user").nth(1), saying(SECOND), "the second question after the reload");
    expectEqual(JSON.stringify(await conversation(page)), JSON.stringify(twoAnswers), "the reopened conversation is the one before the reload");
    await expectText(page.getByTestId("message-assistant").nth(1), /[\d,]+ tokens \(prompt \+ answer\)/, "a reopened answer keeps its token count");
    await expectInputValue(page.getByLabel("Model"), "large", "the reopened chat keeps the model it was answered by");
    expectEqual(dialogs.length, 0, `no dialog before the reload (saw ${dialogs.join(", ")})`);
    await ctx.screenshot("chat-saved");

    ctx.step("rename: an empty title and a too long one are refused, Escape cancels, Enter saves");
    await sidebar(page).getByRole("button", { name: `Rename chat: ${FIRST}` }).click();
    const titleField = sidebar(page).getByLabel("Chat title");
    await expectInputValue(titleField, FIRST, "the field starts with the current title");
    await titleField.fill("   ");
    await titleField.press("Enter");
    await expectText(sidebar(page).getByTestId("rename-error"), "A title cannot be empty.", "an empty title is refused");
    expectEqual(await titleField.getAttribute("aria-invalid"), "true", "the field is marked invalid");
    await titleField.fill("x".repeat(101));
    await titleField.press("Enter");
    await expectText(sidebar(page).getByTestId("rename-error"), /at most 100 characters/, "a title over 100 characters is refused");
    await titleField.press("Escape");
    await expectHidden(sidebar(page).getByLabel("Chat title"), "Escape closes the field");
    await expectSidebar(page, [FIRST], "Escape keeps the old title");
    await sidebar(page).getByRole("button", { name: `Rename chat: ${FIRST}` }).click();
    await titleField.fill("Budget questions");
    await titleField.press("Enter");
    await expectSidebar(page, ["Budget questions"], "Enter saves the new title");
    await page.reload();
    await expectSidebar(page, ["Budget questions"], "the new title after a reload");

    ctx.step("New chat: an empty conversation; its first question makes a second saved chat, listed first");
    await sidebar(page).getByRole("button", { name: "New chat" }).click();
    await expectPath(page, "/chat", "New chat leaves the saved chat's URL");
    await expectHidden(page.getByTestId("message-user"), "the new chat is empty");
    await ask(ctx, OTHER);
    const otherId = openChatId(page);
    expectTrue(otherId !== null && otherId !== firstId, `the new chat has its own id (${otherId} vs ${firstId})`);
    await expectSidebar(page, [OTHER, "Budget questions"], "newest first");

    ctx.step("reopen the first chat from the sidebar and continue it");
    await sidebar(page).getByRole("link", { name: "Budget questions" }).click();
    await expectPath(page, `/chat?c=${firstId}`, "the sidebar link opens the chat");
    await expectText(page.getByTestId("message-user").nth(1), saying(SECOND), "the first chat's conversation is back");
    expectEqual((await conversation(page)).length, 4, "exactly the first chat's four messages");
    await ask(ctx, FOLLOW_UP);
    expectEqual(openChatId(page), firstId, "continuing keeps the chat's id");
    await expectSidebar(page, ["Budget questions", OTHER], "the continued chat moves to the top");
    await page.reload();
    await expectText(page.getByTestId("message-user").nth(2), saying(FOLLOW_UP), "the follow-up was saved to the same chat");
    expectEqual((await conversation(page)).length, 6, "three questions and three answers after the reload");

    ctx.step("Back returns to the other chat");
    await page.goBack();
    await expectPath(page, `/chat?c=${otherId}`, "Back goes to the chat opened before");
    await expectText(page.getByTestId("message-user").first(), saying(OTHER), "Back shows that chat's conversation");
    await page.goto(`${stack.baseUrl}/chat?c=${firstId}`);

    ctx.step("on a phone: the saved chats are a drawer from the chat page");
    await page.setViewportSize({ width: 390, height: 844 });
    await expectHidden(sidebar(page).locator(":visible"), "no sidebar column on a phone");
    await page.getByRole("button", { name: "Chats", exact: true }).click();
    const drawer = page.getByTestId("chat-drawer");
    await expectVisible(drawer, "the Chats button opens the drawer");
    expectEqual(JSON.stringify(await drawer.getByTestId("chat-link").allInnerTexts()), JSON.stringify(["Budget questions", OTHER]), "the drawer lists the chats");
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expectTrue(wide <= 0, `nothing wider than the phone's window with the drawer open (${wide}px too wide)`);
    await ctx.screenshot("chat-drawer-mobile");
    await drawer.getByRole("link", { name: OTHER }).click();
    await expectHidden(drawer.locator(":visible"), "choosing a chat closes the drawer");
    await expectPath(page, `/chat?c=${otherId}`, "the drawer's link opens the chat");
    await expectText(page.getByTestId("message-user").first(), saying(OTHER), "the chat chosen in the drawer");
    await page.setViewportSize({ width: 1280, height: 800 });

    ctx.step("delete: Cancel keeps the chat, Delete removes it");
    await sidebar(page).getByRole("button", { name: `Delete chat: ${OTHER}` }).click();
    await expectText(sidebar(page).getByRole("group"), /Delete “What is a good name for a cat\?” and its messages\?/, "delete asks first");
    await sidebar(page).getByRole("button", { name: "Cancel" }).click();
    await expectSidebar(page, ["Budget questions", OTHER], "Cancel keeps the chat");
    await sidebar(page).getByRole("button", { name: `Delete chat: ${OTHER}` }).click();
    await sidebar(page).getByRole("button", { name: "Delete", exact: true }).click();
    await expectSidebar(page, ["Budget questions"], "Delete removes the chat");
    await expectPath(page, "/chat", "deleting the open chat opens a new one");
    await expectHidden(page.getByTestId("message-user"), "the new chat is empty");
    await page.goto(`${stack.baseUrl}/chat?c=${otherId}`);
    await expectText(page.getByTestId("chat-missing"), /This chat does not exist/, "the deleted chat's URL says it is gone");
    await expectSidebar(page, ["Budget questions"], "after a reload the deleted chat stays gone");
    expectEqual(dialogs.length, 0, `no browser dialog anywhere (saw ${dialogs.join(", ")})`);
  },
};

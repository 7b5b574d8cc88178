import { AssertionError } from "node:assert";
import type { Page } from "playwright-core";
import { expectPath, expectText, expectUrlPrefix, expectVisible, type Journey, type JourneyContext } from "../harness";
import { newSubscriber } from "../flows";

/** The focused element as the journey describes it, and whether its focus can be seen. */
interface Focused {
  /** tag, type, test id, accessible-ish name, and the plan card it sits in: "button||plan-pro|Manage billing". */
  description: string;
  tag: string;
  testId: string;
  name: string;
  card: string;
  /** An outline, or a ring (a box-shadow that is only a spread, as Tailwind's ring utilities draw). */
  visible: boolean;
  style: string;
}

async function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return { description: "body", tag: "body", testId: "", name: "", card: "", visible: false, style: "" };
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    // A ring is a shadow with no offset or blur and a spread (its colour may be rgb(), oklab() or any other).
    const ring = /(^|[\s)])0px 0px 0px [1-9]/.test(style.boxShadow);
    const tag = element.tagName.toLowerCase();
    const testId = element.getAttribute("data-testid") ?? "";
    const name = (element.getAttribute("aria-label") ?? element.textContent ?? element.getAttribute("placeholder") ?? "").replace(/\s+/g, " ").trim().slice(0, 60);
    const card = element.closest("[data-testid^='plan-']")?.getAttribute("data-testid") ?? "";
    const type = element.getAttribute("type") ?? "";
    return {
      description: `${tag}|${type}|${testId}|${card}|${name}`,
      tag,
      testId,
      name,
      card,
      visible: outline || ring,
      style: `outline ${style.outlineStyle} ${style.outlineWidth}; box-shadow ${style.boxShadow}`,
    };
  });
}

/**
 * Presses Tab (or Shift+Tab) until the focused element matches, checking on every stop that the focus is visible;
 * controls without visible focus are collected in `invisible`.
 */
async function tabTo(
  ctx: JourneyContext,
  invisible: Set<string>,
  what: string,
  matches: (element: Focused) => boolean,
  options: { backward?: boolean; max?: number } = {},
): Promise<void> {
  const { page } = ctx;
  const max = options.max ?? 30;
  const path: string[] = [];
  for (let presses = 0; presses < max; presses++) {
    await page.keyboard.press(options.backward ? "Shift+Tab" : "Tab");
    const now = await focused(page);
    path.push(now.description);
    if (now.tag !== "body" && !now.visible) invisible.add(`${now.description} on ${new URL(page.url()).pathname} (${now.style})`);
    if (matches(now)) {
      ctx.step(`${options.backward ? "Shift+Tab" : "Tab"} x${presses + 1} to ${what}`);
      return;
    }
  }
  throw new AssertionError({ message: `${max} presses of ${options.backward ? "Shift+Tab" : "Tab"} never reached ${what}; focus went through:\n  ${path.join("\n  ")}` });
}

/** Desktop, keyboard only: sign in, Account from the header, a chat question, a plan's action on /pricing. */
export const keyboardJourney: Journey = {
  name: "keyboard only (desktop): sign in, Account from the header, send a chat message, a plan action on /pricing, focus always visible",
  async run(ctx) {
    const { page, stack } = ctx;
    // The account is set up with the mouse; what follows uses only Tab, Shift+Tab, Enter, Space and typing.
    await newSubscriber(ctx);
    await page.context().clearCookies();
    const invisible = new Set<string>();

    ctx.step("sign in");
    await page.goto(stack.baseUrl + "/sign-in");
    await expectVisible(page.getByLabel("Email"), "the sign-in form");
    await tabTo(ctx, invisible, "the email field", (element) => element.tag === "input" && element.description.startsWith("input|email|"));
    await page.keyboard.type(ctx.email);
    await tabTo(ctx, invisible, "the password field", (element) => element.description.startsWith("input|password|"));
    await page.keyboard.type(ctx.password);
    await tabTo(ctx, invisible, "the Sign in button", (element) => element.tag === "button" && element.name === "Sign in");
    await page.keyboard.press("Enter");
    await expectText(page.getByTestId("session-email"), ctx.email, "signed in: the header shows the account");

    ctx.step("Account from the header");
    await tabTo(ctx, invisible, "the header's account link", (element) => element.testId === "session-email");
    await page.keyboard.press("Enter");
    await expectPath(page, "/account", "Enter on the header's account link");
    await expectText(page.getByTestId("plan-name"), "Starter", "the account page");

    ctx.step("Chat from the header, then a question sent with Space on Send");
    await tabTo(ctx, invisible, "the header's Chat link", (element) => element.tag === "a" && element.name === "Chat", { backward: true });
    await page.keyboard.press("Enter");
    await expectPath(page, "/chat", "Enter on the header's Chat link");
    await expectVisible(page.getByLabel("Message"), "the message box");
    // The message box takes the focus as the page opens (it is where a chat starts).
    const start = Date.now();
    let box = await focused(page);
    while (box.tag !== "textarea") {
      if (Date.now() - start > 10_000) throw new AssertionError({ message: `the message box never took the focus (focus is on ${box.description})` });
      await new Promise((resolve) => setTimeout(resolve, 100));
      box = await focused(page);
    }
    if (!box.visible) invisible.add(`the message box (${box.style})`);
    await page.keyboard.type("How does the token budget work?");
    await tabTo(ctx, invisible, "the Send button", (element) => element.tag === "button" && element.name === "Send");
    await page.keyboard.press("Space");
    await expectText(page.getByTestId("message-assistant").first(), /tokens \(prompt \+ answer\)/, "the answer to the question sent by keyboard", 20_000);

    ctx.step("Pricing from the header, then the Pro card's action");
    await tabTo(ctx, invisible, "the header's Pricing link", (element) => element.tag === "a" && element.name === "Pricing", { backward: true, max: 40 });
    await page.keyboard.press("Enter");
    await expectPath(page, "/pricing", "Enter on the header's Pricing link");
    await expectVisible(page.getByTestId("plan-pro").getByRole("button", { name: "Manage billing" }), "a subscriber's plan actions");
    await tabTo(ctx, invisible, "the Pro card's Manage billing", (element) => element.card === "plan-pro" && element.tag === "button" && element.name === "Manage billing");
    await page.keyboard.press("Space");
    await expectUrlPrefix(page, `${stack.stripeSandboxUrl}/portal/`, "Space on Manage billing opens the hosted portal", 20_000);
    await expectText(page.getByText(ctx.email, { exact: true }), ctx.email, "the portal is this customer's");

    if (invisible.size > 0) {
      throw new AssertionError({ message: `focus was not visible on ${invisible.size} control(s):\n  ${[...invisible].join("\n  ")}` });
    }
  },
};

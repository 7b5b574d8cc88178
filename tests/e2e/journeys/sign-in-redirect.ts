import { expectInputValue, expectPath, expectText, expectVisible, type Journey } from "../harness";
import { submitAuthForm } from "../flows";

/** 5. A visitor opening /account or /chat is sent to sign in and lands where they were going afterwards. */
export const signInRedirectJourney: Journey = {
  name: "visitor: /account and /chat ask to sign in, then come back",
  async run(ctx) {
    const { page, stack } = ctx;

    ctx.step("a visitor opens /account: sign in first, or create an account");
    await page.goto(stack.baseUrl + "/account");
    await expectPath(page, "/sign-in?callbackUrl=%2Faccount", "/account sends a visitor to sign in");
    await expectText(page.getByRole("heading", { level: 1 }), "Sign in", "sign-in heading");
    await page.getByRole("link", { name: "Create an account" }).click();
    await expectPath(page, "/sign-up?callbackUrl=%2Faccount", "the sign-up link keeps where the visitor was going");
    await submitAuthForm(page, "sign-up", ctx.email, ctx.password);
    await expectPath(page, "/account", "after sign-up, back to /account");
    await expectText(page.getByRole("heading", { level: 1 }), "Account", "account heading");
    await expectText(page.getByTestId("account-email"), ctx.email, "the new account");
    await expectText(page.getByTestId("plan-name"), "Free", "a new account is on the free tier");

    ctx.step("sign out");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expectVisible(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" }), "the header offers Sign in after signing out");

    ctx.step("the visitor opens /chat: sign in, then back to /chat");
    await page.goto(stack.baseUrl + "/chat");
    await expectPath(page, "/sign-in?callbackUrl=%2Fchat", "/chat sends a visitor to sign in");
    await submitAuthForm(page, "sign-in", ctx.email, "wrong password 123");
    await expectText(page.getByRole("alert"), "That email and password do not match an account.", "a wrong password is refused");
    // React resets the form once the refused action settles; type the right password after that, as a person would.
    await expectInputValue(page.getByLabel("Password"), "", "the password field is cleared after a refusal");
    await expectInputValue(page.getByLabel("Email"), ctx.email, "the email is kept after a refusal");
    await page.getByLabel("Password").fill(ctx.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expectPath(page, "/chat", "after sign-in, back to /chat");
    await expectText(page.getByRole("heading", { level: 1 }), "Chat", "chat heading");
    await expectText(page.getByTestId("session-email"), ctx.email, "the header shows the signed-in user");
    await expectVisible(page.getByTestId("chat-payment-required"), "a free user's chat asks for a plan");
  },
};

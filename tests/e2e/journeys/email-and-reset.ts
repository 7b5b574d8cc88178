import { expectInputValue, expectPath, expectText, expectVisible, type Journey } from "../harness";
import { emailFromInbox, signUpFromPricing, submitAuthForm, subscribe } from "../flows";
import { linkIn } from "../../support/mail-inbox";

/** 6. Sign up, confirm the email from the inbox, subscribe (receipt email), sign out, forgot password, reset, signed in. */
export const emailAndResetJourney: Journey = {
  name: "email: verify from the inbox, subscribe, forgot and reset the password",
  async run(ctx) {
    const { page, stack } = ctx;
    await signUpFromPricing(ctx);
    await subscribe(ctx, "Starter");

    ctx.step("the receipt email links to the invoice");
    const receipt = await emailFromInbox(ctx, "Welcome to Hourglass Starter");
    linkIn(receipt, `${stack.stripeSandboxUrl}/invoice/`);
    if (stack.mailInboxUrl) {
      await page.goto(`${stack.mailInboxUrl}/?id=${encodeURIComponent(receipt.ID)}`);
      await expectText(page.getByRole("heading", { level: 2 }), "Welcome to Hourglass Starter", "the local inbox shows the receipt");
      await ctx.screenshot("email");
    }

    ctx.step("sign out, then forgot password");
    await page.goto(stack.baseUrl + "/account");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expectVisible(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" }), "signed out");
    await page.goto(stack.baseUrl + "/sign-in");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await expectPath(page, "/forgot-password", "the sign-in page links to forgot password");
    await page.getByLabel("Email").fill(ctx.email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await expectText(page.getByRole("status"), /^If an account uses that address, we have sent it a link/, "the same answer for every address");

    ctx.step("open the reset link from the inbox and choose a new password");
    const reset = await emailFromInbox(ctx, "Reset your Hourglass password");
    await page.goto(linkIn(reset, `${stack.baseUrl}/reset-password?token=`));
    const newPassword = `${ctx.password} renewed`;
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Set new password" }).click();
    await expectPath(page, "/account", "a reset signs the user in", 20_000);
    await expectText(page.getByTestId("session-email"), ctx.email, "signed in after the reset");
    await expectText(page.getByTestId("plan-name"), "Starter", "the plan is still there");

    ctx.step("the old password no longer works, the new one does");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expectVisible(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" }), "signed out again");
    await page.goto(stack.baseUrl + "/sign-in");
    await submitAuthForm(page, "sign-in", ctx.email, ctx.password);
    await expectText(page.getByRole("alert"), "That email and password do not match an account.", "the old password is refused");
    await expectInputValue(page.getByLabel("Password"), "", "the password field is cleared after a refusal");
    await page.getByLabel("Password").fill(newPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expectText(page.getByTestId("session-email"), ctx.email, "signed in with the new password");
  },
};

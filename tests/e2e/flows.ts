// Steps several journeys share, done the way a person does them (clicks and typing), plus the one thing a person
// cannot do: move the sandbox's test clock, through the Stripe API like a real test-clock test would.
import Stripe from "stripe";
import type { Page } from "playwright-core";
import { linkIn, waitForMessage } from "../support/mail-inbox";
import { expectPath, expectText, expectUrlPrefix, expectVisible, formatDateLikeApp, type JourneyContext } from "./harness";

export const GOOD_CARD = "4242 4242 4242 4242";
export const DECLINED_CARD = "4000 0000 0000 0002";

/** On /sign-up or /sign-in: fill the form and submit. */
export async function submitAuthForm(page: Page, mode: "sign-up" | "sign-in", email: string, password: string): Promise<void> {
  if (mode === "sign-up") await page.getByLabel("Name (optional)").fill("Ada Tester");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: mode === "sign-up" ? "Create account" : "Sign in" }).click();
}

/** From the landing page to /pricing, signed up through a plan card's "Get started" link; ends back on /pricing. */
export async function signUpFromPricing(ctx: JourneyContext): Promise<void> {
  const { page, stack } = ctx;
  ctx.step("open / and follow See pricing");
  await page.goto(stack.baseUrl + "/");
  await page.getByRole("link", { name: "See pricing" }).click();
  await expectText(page.getByRole("heading", { level: 1 }), "Pricing", "pricing page heading");
  // Rendered on the server: the visitor's actions are in the first paint, every card's the same.
  for (const plan of ["Free", "Starter", "Pro"]) {
    await expectVisible(page.getByRole("link", { name: `Get started with ${plan}` }), `a visitor is offered Get started on ${plan}`);
  }
  await expectText(page.getByTestId("plan-pro").getByTestId("recommended"), "Recommended", "the recommended plan is marked");
  ctx.step("sign up from the Starter card");
  await page.getByTestId("plan-starter").getByRole("link", { name: "Get started with Starter" }).click();
  await expectPath(page, /^\/sign-up\?callbackUrl=%2Fpricing$/, "the Get started link on a plan card");
  await submitAuthForm(page, "sign-up", ctx.email, ctx.password);
  await expectPath(page, "/pricing", "after creating the account, back to pricing");
  await expectText(page.getByTestId("session-email"), ctx.email, "the header shows the signed-in user");
  // Checkout needs a confirmed address: open the link from the local inbox, as the user would.
  await confirmEmailFromInbox(ctx);
  await page.goto(stack.baseUrl + "/pricing");
  await expectVisible(page.getByRole("button", { name: "Subscribe to Starter" }), "a free user is offered Subscribe on Starter");
  await expectText(page.getByTestId("plan-free").getByText("Current plan"), "Current plan", "a free user's Free card is the current plan");
}

/** The newest email to this journey's user with `subject`, read from the local inbox the app sends to. */
export async function emailFromInbox(ctx: JourneyContext, subject: string | RegExp) {
  const inbox = ctx.stack.mailInboxUrl;
  if (!inbox) throw new Error("The suite needs the local inbox (unset SMTP_URL).");
  return waitForMessage(inbox, ctx.email, subject, 20_000);
}

/** Opens the verification link from the inbox and confirms; ends on /verify-email with the confirmation shown. */
export async function confirmEmailFromInbox(ctx: JourneyContext): Promise<void> {
  const { page, stack } = ctx;
  ctx.step("open the verification link from the inbox");
  const message = await emailFromInbox(ctx, "Confirm your email address");
  const link = linkIn(message, `${stack.baseUrl}/verify-email?token=`);
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm email" }).click();
  await expectText(page.getByRole("status"), /^Your email address is confirmed/, "the address is confirmed");
}

/**
 * On the sandbox's hosted Checkout: fill the billing address and a card, press Subscribe (or, for a one-time payment
 * such as a credit pack, `submit: "Pay"` under its own heading).
 */
export async function fillCheckout(
  ctx: JourneyContext,
  card: string,
  options: { screenshot?: string; heading?: RegExp; submit?: string } = {},
): Promise<void> {
  const { page } = ctx;
  await expectText(page.getByRole("heading", { level: 1 }), options.heading ?? /^Subscribe to Hourglass (Starter|Pro)$/, "hosted checkout heading");
  const email = page.getByLabel("Email");
  if ((await email.inputValue()) === "") await email.fill(ctx.email);
  await page.getByLabel("Name on card").fill("Ada Tester");
  await page.getByLabel("Address line 1").fill("1 Market Street");
  await page.getByLabel("City").fill("San Francisco");
  await page.getByLabel("Postal code").fill("94105");
  await page.getByLabel("Country").selectOption("US");
  await page.getByLabel("Card number").fill(card);
  await page.getByLabel("Expiry").fill("12 / 34");
  await page.getByLabel("CVC").fill("123");
  if (options.screenshot) {
    // Typing scrolled the form down; the picture should open at the top.
    await page.evaluate(() => window.scrollTo(0, 0));
    await ctx.screenshot(options.screenshot);
  }
  await page.getByRole("button", { name: options.submit ?? "Subscribe" }).click();
}

/** A signed-in free user on /pricing buys `plan` with the good card and lands on /account. */
export async function subscribe(ctx: JourneyContext, plan: "Starter" | "Pro", options: { checkoutScreenshot?: string } = {}): Promise<void> {
  const { page } = ctx;
  ctx.step(`subscribe to ${plan}`);
  await page.getByRole("button", { name: `Subscribe to ${plan}` }).click();
  await expectUrlPrefix(page, `${ctx.stack.stripeSandboxUrl}/checkout/`, "Subscribe opens the hosted checkout", 20_000);
  await expectText(page.getByRole("heading", { level: 1 }), `Subscribe to Hourglass ${plan}`, "hosted checkout for the chosen plan", 20_000);
  await fillCheckout(ctx, GOOD_CARD, { screenshot: options.checkoutScreenshot });
  await expectPath(page, /^\/account\?checkout=success&session_id=cs_/, "Checkout's success redirect", 20_000);
  await expectText(page.getByTestId("plan-name"), plan, "account plan name after checkout");
}

/** Signs up and subscribes to Starter through the UI; ends on /account. */
export async function newSubscriber(ctx: JourneyContext, plan: "Starter" | "Pro" = "Starter"): Promise<void> {
  await signUpFromPricing(ctx);
  await subscribe(ctx, plan);
}

/** From /account, the "Manage billing" button to the hosted portal. */
export async function openPortal(ctx: JourneyContext): Promise<void> {
  const { page } = ctx;
  ctx.step("open the billing portal from /account");
  await page.getByTestId("billing-panel").getByRole("button", { name: "Manage billing" }).click();
  await expectUrlPrefix(page, `${ctx.stack.stripeSandboxUrl}/portal/`, "Manage billing opens the hosted portal", 20_000);
  await expectText(page.getByRole("heading", { level: 2 }).first(), "Current plan", "the portal's first section");
  await expectText(page.getByText(ctx.email, { exact: true }), ctx.email, "the portal is for this customer");
}

/** In the portal: "Return to ..." back to /account. */
export async function returnFromPortal(ctx: JourneyContext): Promise<void> {
  const { page } = ctx;
  await page.getByRole("link", { name: /^Return to / }).click();
  await expectPath(page, "/account", "the portal's return link");
}

// ---- the sandbox, through the Stripe API ------------------------------------------------------------------------

export function sandboxStripe(ctx: JourneyContext): Stripe {
  const url = ctx.stack.stripeSandboxUrl;
  if (!url) throw new Error("The suite needs the Stripe sandbox (unset STRIPE_SECRET_KEY).");
  const { hostname, port } = new URL(url);
  return new Stripe("sk_test_e2e", { host: hostname, port: Number(port), protocol: "http" });
}

async function customerOf(ctx: JourneyContext): Promise<Stripe.Customer> {
  const customers = await sandboxStripe(ctx).customers.list({ email: ctx.email, limit: 10 });
  const customer = customers.data[0];
  if (!customer) throw new Error(`no Stripe customer for ${ctx.email}`);
  if (customers.data.length > 1) throw new Error(`${customers.data.length} Stripe customers for ${ctx.email}: expected one per user`);
  return customer;
}

/** The user's latest subscription as Stripe has it: what the page should agree with. */
export async function latestSubscription(ctx: JourneyContext): Promise<Stripe.Subscription> {
  const customer = await customerOf(ctx);
  const subscriptions = await sandboxStripe(ctx).subscriptions.list({ customer: customer.id, status: "all", limit: 10 });
  const subscription = subscriptions.data[0];
  if (!subscription) throw new Error(`no subscription for ${ctx.email}`);
  return subscription;
}

/** The current period end of the user's subscription, as the app prints dates. */
export async function periodEndText(ctx: JourneyContext): Promise<string> {
  const item = (await latestSubscription(ctx)).items.data[0];
  if (!item) throw new Error("subscription without items");
  return formatDateLikeApp(item.current_period_end * 1000);
}

/** Moves the customer's test clock to `seconds` (Unix), waits until it is ready and every webhook was delivered. */
export async function advanceClock(ctx: JourneyContext, seconds: number): Promise<void> {
  const stripe = sandboxStripe(ctx);
  const customer = await customerOf(ctx);
  const clockId = typeof customer.test_clock === "string" ? customer.test_clock : customer.test_clock?.id;
  if (!clockId) throw new Error(`customer ${customer.id} has no test clock`);
  ctx.step(`advance test clock ${clockId} to ${new Date(seconds * 1000).toISOString()}`);
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: seconds });
  const deadline = Date.now() + 30_000;
  while ((await stripe.testHelpers.testClocks.retrieve(clockId)).status !== "ready") {
    if (Date.now() > deadline) throw new Error(`test clock ${clockId} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const idle = await fetch(new URL("/_sandbox/idle", ctx.stack.stripeSandboxUrl ?? ""));
  if (!idle.ok) throw new Error(`sandbox /_sandbox/idle answered ${idle.status}`);
}

/** Advances the clock one hour past the subscription's current period end. */
export async function advancePastPeriodEnd(ctx: JourneyContext): Promise<void> {
  const subscription = await latestSubscription(ctx);
  const end = subscription.cancel_at ?? subscription.items.data[0]?.current_period_end;
  if (!end) throw new Error("subscription without a period end");
  await advanceClock(ctx, end + 3600);
}

import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { signInUrl } from "@/lib/auth-redirect";
import { formatDate, formatSubscriptionStatus } from "@/lib/format";
import { getServerCaller } from "@/server/api/context";
import { getSessionUserId } from "@/server/auth";
import { syncAfterCheckout } from "@/server/billing/checkout-return";
import { BudgetMeter } from "../_components/budget-meter";
import { BudgetEmailsToggle, VerifyEmailNotice } from "../_components/email-forms";
import { ManageBillingButton } from "../_components/manage-billing-button";
import { DeleteAccount } from "./delete-account";
import { OverageCapForm } from "./overage-cap";

export const metadata: Metadata = { title: "Account" };

type SearchParams = Promise<{ checkout?: string | string[]; session_id?: string | string[]; card?: string | string[] }>;

export default async function AccountPage({ searchParams }: { searchParams: SearchParams }) {
  const userId = await getSessionUserId();
  if (!userId) redirect(signInUrl("/account"));
  const params = await searchParams;
  const returningFromCheckout = params.checkout === "success" && typeof params.session_id === "string";
  if (returningFromCheckout && typeof params.session_id === "string") {
    // Don't wait for the webhook: show the plan the user just paid for. A failure here only means we wait for it.
    await syncAfterCheckout(userId, params.session_id).catch((error: unknown) =>
      console.error("checkout return sync failed; the webhook will catch up", error),
    );
  }

  const caller = await getServerCaller();
  const [me, billing, overage] = await Promise.all([caller.account.me(), caller.billing.status(), caller.account.overage()]);

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold tracking-tight">Account</h1>
      {me.emailVerified ? null : <VerifyEmailNotice email={me.email} />}
      {returningFromCheckout && billing?.active ? (
        <p role="status" className="rounded-lg border border-green-200 bg-green-50 px-4 py-3 text-sm text-green-900">
          Thank you! Your {billing.planName} plan is active.
        </p>
      ) : null}
      {/* A failed payment is announced on every page by the banner under the header (PaymentDueBanner). */}
      {params.card === "updated" ? (
        <p role="status" className="rounded-lg border border-green-200 bg-green-50 px-4 py-3 text-sm text-green-900" data-testid="card-updated">
          Your card was saved. A payment that was due is charged to it; this page shows the result once Stripe confirms it.
        </p>
      ) : null}

      <section className="card" aria-labelledby="billing-heading" data-testid="billing-panel">
        <div className="flex flex-wrap items-start justify-between gap-4">
          <div className="min-w-0">
            <h2 id="billing-heading" className="text-lg font-semibold">Plan and billing</h2>
            <p className="mt-2 text-2xl font-bold" data-testid="plan-name">{billing?.planName ?? "Free"}</p>
            <p className="mt-1 text-sm text-stone-600" data-testid="plan-status">
              {billing?.active && billing.subscriptionStatus ? (
                <>Status: {formatSubscriptionStatus(billing.subscriptionStatus)}</>
              ) : (
                "You are on the free tier."
              )}
            </p>
            {billing?.billingInterval ? (
              <p className="text-sm text-stone-600" data-testid="billing-interval">
                Billed {billing.billingInterval === "year" ? "yearly (chat tokens refill monthly)" : "monthly"}
              </p>
            ) : null}
            {billing?.trialEndsAt ? (
              <p className="text-sm font-medium text-stone-700" data-testid="trial-ends-on">Trial ends on {formatDate(billing.trialEndsAt)}</p>
            ) : billing?.renewsAt ? (
              <p className="text-sm text-stone-600" data-testid="renews-on">Renews on {formatDate(billing.renewsAt)}</p>
            ) : null}
            {billing?.scheduledChange ? (
              <p className="text-sm font-medium text-stone-700" data-testid="scheduled-change">
                Switches to {billing.scheduledChange.planName} on {formatDate(billing.scheduledChange.at)}
              </p>
            ) : null}
            {billing?.cancelsAt ? (
              <p className="text-sm font-medium text-amber-800" data-testid="cancels-on">Cancels on {formatDate(billing.cancelsAt)}</p>
            ) : null}
          </div>
          {/* One primary action per state: a subscriber manages billing (a failed payment: updates the card), a
              free user picks a plan; the portal of a free user who never paid would have nothing to show. */}
          <div className="flex w-full flex-col gap-2 sm:w-auto sm:items-end">
            {billing?.active ? (
              <ManageBillingButton
                className="btn-primary w-full sm:w-auto"
                label={billing.pastDue ? "Update payment method" : "Manage billing"}
                flow={billing.pastDue ? "payment_method_update" : undefined}
              />
            ) : (
              <>
                <Link href="/pricing" className="btn-primary w-full sm:w-auto">See plans</Link>
                {billing?.hasStripeCustomer && billing.subscriptionStatus ? (
                  <ManageBillingButton className="text-sm font-medium text-stone-700 underline hover:text-stone-900" label="Past invoices" />
                ) : null}
              </>
            )}
          </div>
        </div>
        {billing?.budget ? (
          <div className="mt-6 border-t border-stone-100 pt-4">
            <h3 className="mb-2 text-sm font-semibold text-stone-700">Chat budget this period</h3>
            {billing.budget.tokensRemaining === null ? (
              <p role="status" className="text-sm text-stone-600" data-testid="budget-unavailable">
                Your token budget can&apos;t be read right now, so chat is paused. Reload this page in a moment.
              </p>
            ) : (
              <BudgetMeter {...billing.budget} tokensRemaining={billing.budget.tokensRemaining} packTokens={billing.packTokens} />
            )}
            <p className="mt-2 text-sm">
              <Link href="/usage" className="font-medium text-stone-700 underline hover:text-stone-900">Usage history and credit packs</Link>
            </p>
          </div>
        ) : null}
        {billing?.active ? (
          <p className="mt-4 text-xs text-stone-500">Invoices, payment methods, plan changes and cancellation are in the billing portal.</p>
        ) : null}
      </section>

      {overage && billing?.active ? <OverageCapForm {...overage} /> : null}

      <section className="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading" className="text-lg font-semibold">Profile</h2>
        <dl className="mt-3 grid grid-cols-1 gap-y-1 text-sm sm:grid-cols-[8rem_minmax(0,1fr)] sm:gap-y-2">
          <dt className="text-stone-500">Email</dt>
          <dd className="wrap-anywhere max-sm:mb-2" data-testid="account-email">{me.email}</dd>
          <dt className="text-stone-500">Name</dt>
          <dd className="wrap-anywhere max-sm:mb-2">{me.name ?? "—"}</dd>
          <dt className="text-stone-500">Member since</dt>
          <dd>{formatDate(me.createdAt)}</dd>
        </dl>
      </section>

      <section className="card" aria-labelledby="email-preferences-heading" id="email-preferences">
        <h2 id="email-preferences-heading" className="text-lg font-semibold">Emails</h2>
        <p className="mt-1 mb-3 text-sm text-stone-600">Receipts, failed payments and plan changes are always sent.</p>
        <BudgetEmailsToggle enabled={me.budgetEmails} />
      </section>

      <DeleteAccount />
    </div>
  );
}

"use client";
import Link from "next/link";
import type { ReactNode } from "react";
import { signInUrl } from "@/lib/auth-redirect";
import { formatDate } from "@/lib/format";
import type { CreditPackId } from "@/server/billing/plans";
import { BuyCreditsButton } from "../_components/buy-credits-button";
import { ManageBillingButton } from "../_components/manage-billing-button";

// What /chat shows instead of (or above) the input when the server refuses or cannot answer; each names the way forward.

export function PaymentRequiredPanel({ pricingUrl }: { pricingUrl: string }) {
  return (
    <section className="card text-center" aria-labelledby="chat-payment-required-heading" data-testid="chat-payment-required">
      <h2 id="chat-payment-required-heading" className="text-lg font-semibold">Chat is part of the paid plans</h2>
      <p className="mx-auto mt-2 max-w-md text-sm text-stone-600">
        Every paid plan comes with a monthly token budget for chat. Pick one and start asking right away.
      </p>
      <Link href={pricingUrl} className="btn-primary mt-4">See plans</Link>
    </section>
  );
}

/** A past-due plan after its grace: chat is paused until the open invoice is paid. */
export function PaymentOverduePanel({ invoiceUrl }: { invoiceUrl: string | null }) {
  return (
    <section className="card text-center" aria-labelledby="chat-payment-overdue-heading" data-testid="chat-payment-overdue">
      <h2 id="chat-payment-overdue-heading" className="text-lg font-semibold">Chat is paused until your invoice is paid</h2>
      <p className="mx-auto mt-2 max-w-md text-sm text-stone-600">
        Your last payment failed and the grace period is over. Pay the open invoice, or update your card and the
        payment is retried at once. Your plan and its tokens are kept.
      </p>
      <div className="mt-4 flex flex-col items-center gap-2 sm:flex-row sm:justify-center">
        {invoiceUrl ? (
          <a href={invoiceUrl} className="btn-primary" data-testid="chat-pay-invoice">Pay the invoice</a>
        ) : null}
        <ManageBillingButton flow="payment_method_update" label="Update card" className={invoiceUrl ? "btn-secondary" : "btn-primary"} />
      </div>
    </section>
  );
}

export function BudgetExhaustedPanel({
  resetsAt,
  packOffer,
}: {
  resetsAt: Date | string | null;
  /** A credit pack to buy now (billing status); without one, only the plan upgrade is offered. */
  packOffer?: { id: CreditPackId; tokens: number; amountCents: number; expiryDays: number } | null;
}) {
  return (
    <section className="card text-center" aria-labelledby="chat-budget-exhausted-heading" data-testid="chat-budget-exhausted">
      <h2 id="chat-budget-exhausted-heading" className="text-lg font-semibold">You&apos;ve used this period&apos;s tokens</h2>
      <p className="mx-auto mt-2 max-w-md text-sm text-stone-600" data-testid="budget-resets-on">
        {resetsAt ? <>Your budget resets on {formatDate(resetsAt)}.</> : "Your budget is refilled when your plan renews."}{" "}
        {packOffer
          ? `For more tokens now, buy a credit pack (paid once, usable for ${packOffer.expiryDays} days) or upgrade your plan in the billing portal.`
          : "For more tokens now, upgrade your plan in the billing portal."}
      </p>
      <div className="mt-4 flex flex-col items-center gap-2 sm:flex-row sm:justify-center">
        {packOffer ? <BuyCreditsButton pack={packOffer} /> : null}
        <ManageBillingButton className={packOffer ? "btn-secondary" : "btn-primary"} />
      </div>
    </section>
  );
}

function Notice({ children, testId }: { children: ReactNode; testId: string }) {
  return (
    <div
      role="alert"
      data-testid={testId}
      className="flex flex-wrap items-center justify-between gap-3 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900"
    >
      {children}
    </div>
  );
}

export function UnavailableNotice({ kind, onRetry }: { kind: "unavailable" | "unknown"; onRetry: () => void }) {
  return (
    <Notice testId="chat-unavailable">
      <p>
        {kind === "unavailable"
          ? "Chat is unavailable right now, please try again shortly."
          : "Something went wrong and the answer did not arrive. Please try again."}
      </p>
      <button type="button" className="btn-secondary" onClick={onRetry}>Try again</button>
    </Notice>
  );
}

export function BadRequestNotice({ message, onNewChat }: { message: string; onNewChat: (() => void) | undefined }) {
  return (
    <Notice testId="chat-bad-request">
      <p>{message}</p>
      {onNewChat ? <button type="button" className="btn-secondary" onClick={onNewChat}>New chat</button> : null}
    </Notice>
  );
}

export function ConversationTooLongNotice({ message, onNewChat }: { message: string; onNewChat: () => void }) {
  return (
    <Notice testId="chat-conversation-too-long">
      <p>{message}</p>
      <button type="button" className="btn-secondary" onClick={onNewChat}>New chat</button>
    </Notice>
  );
}

export function SignedOutNotice() {
  return (
    <Notice testId="chat-signed-out">
      <p>Your session has ended. Sign in again to keep chatting.</p>
      <Link href={signInUrl("/chat")} className="btn-secondary">Sign in</Link>
    </Notice>
  );
}

/** The URL names a chat that is not (or no longer) one of the user's, or that could not be read just now. */
export function MissingChatNotice({ unavailable = false, onNewChat, onRetry }: { unavailable?: boolean; onNewChat: () => void; onRetry?: () => void }) {
  return (
    <Notice testId={unavailable ? "chat-open-failed" : "chat-missing"}>
      <p>{unavailable ? "This chat could not be opened right now." : "This chat does not exist (it may have been deleted)."}</p>
      <div className="flex gap-2">
        {onRetry ? <button type="button" className="btn-secondary" onClick={onRetry}>Try again</button> : null}
        <button type="button" className="btn-secondary" onClick={onNewChat}>New chat</button>
      </div>
    </Notice>
  );
}

"use client";
import { useEffect, useState } from "react";
import { formatDateTime } from "@/lib/format";
import { ManageBillingButton } from "./manage-billing-button";
import { loadSession, type SessionAnswer } from "./session-query";

type PaymentDue = NonNullable<SessionAnswer["paymentDue"]>;

/**
 * Shown on every page while a signed-in user's plan is past due: the open invoice to pay, the card to update, and
 * how long chat keeps working (BILLING_GRACE_SECONDS from when the invoice was issued) or that it has stopped.
 */
export function PaymentDueBanner() {
  const [due, setDue] = useState<PaymentDue | null>(null);
  useEffect(() => {
    let live = true;
    loadSession()
      .then((session) => live && setDue(session.paymentDue))
      // The header already falls back to "signed out" on an outage; the banner simply stays away.
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);
  if (!due) return null;
  return (
    <section aria-label="Payment failed" className="border-b border-amber-300 bg-amber-50 text-amber-950" data-testid="payment-due-banner">
      <div className="mx-auto flex max-w-5xl flex-col gap-3 px-4 py-3 text-sm sm:flex-row sm:items-center sm:justify-between sm:px-6">
        <p className="min-w-0">
          <strong className="font-semibold">Your last payment failed.</strong>{" "}
          {due.stopped ? (
            <span data-testid="payment-due-stopped">Chat is paused until the invoice is paid.</span>
          ) : (
            <span data-testid="payment-due-grace">Chat keeps working until {formatDateTime(due.chatStopsAt)}.</span>
          )}
        </p>
        <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
          {due.invoiceUrl ? (
            <a href={due.invoiceUrl} className="btn-primary" data-testid="pay-invoice-link">
              Pay the invoice
            </a>
          ) : null}
          <ManageBillingButton
            flow="payment_method_update"
            label="Update card"
            className="font-medium text-amber-950 underline underline-offset-2 hover:text-amber-800 disabled:opacity-60"
          />
        </div>
      </div>
    </section>
  );
}

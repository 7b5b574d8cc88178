// Which billing emails a subscription sync causes, decided from the user row before the sync and the state it
// writes, and enqueued in the sync's transaction. Each email has a key naming the fact it reports (this
// subscription started, this invoice failed, this cancellation date), so replayed, duplicated or reordered events
// that lead to the same state enqueue nothing new. Delivery happens after commit (server/mail/outbox).
import type Stripe from "stripe";
import type { Executor } from "@/db/client";
import type { SubscriptionState } from "@/db/queries/billing";
import type { User } from "@/db/schema";
import { env } from "@/lib/env";
import { enqueueEmail } from "@/server/mail/outbox";
import { licensedItem } from "./overage";
import { findPlanByLookupKey } from "./plans";

export interface BillingEmailContext {
  /** The subscription the sync read from Stripe (latest_invoice expanded), or null when the customer has none. */
  subscription: Stripe.Subscription | null;
  now?: Date;
}

/** Stripe sends customer.subscription.trial_will_end three days before a trial ends. */
const TRIAL_NOTICE_SECONDS = 3 * 24 * 60 * 60 + 60 * 60;
const startedStatuses: ReadonlySet<string> = new Set(["active", "trialing"]);

const appUrl = (path: string) => new URL(path, env.APP_URL).toString();
const isoOrNull = (value: Date | null) => (value ? value.toISOString() : null);
const fromUnix = (seconds: number) => new Date(seconds * 1000);

function formatMoney(cents: number | null | undefined, currency: string): string | null {
  if (cents === null || cents === undefined) return null;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(cents / 100);
}

function priceText(price: Stripe.Price | undefined): string {
  if (!price) return "";
  const amount = formatMoney(price.unit_amount, price.currency) ?? "";
  return price.recurring ? `${amount} / ${price.recurring.interval_count > 1 ? `${price.recurring.interval_count} ` : ""}${price.recurring.interval}` : amount;
}

/** Enqueues, in `tx`, every billing email the change from `previous` to `next` calls for. Returns how many were new. */
export async function enqueueBillingEmails(
  tx: Executor,
  previous: User,
  next: SubscriptionState,
  context: BillingEmailContext,
): Promise<number> {
  const sub = context.subscription;
  if (!sub || sub.id !== next.stripeSubscriptionId) return 0;
  const now = context.now ?? new Date();
  const item = licensedItem(sub);
  const planName = findPlanByLookupKey(item?.price.lookup_key)?.name ?? item?.price.nickname ?? "paid";
  const invoice = typeof sub.latest_invoice === "object" ? sub.latest_invoice : null;
  const base = { userId: previous.id, to: previous.email };
  const accountUrl = appUrl("/account");
  let added = 0;
  const add = async (...args: Parameters<typeof enqueueEmail>) => {
    if (await enqueueEmail(...args)) added += 1;
  };

  const wasStarted = previous.stripeSubscriptionId === sub.id && startedStatuses.has(previous.subscriptionStatus ?? "");
  if (startedStatuses.has(sub.status) && !wasStarted) {
    await add(tx, {
      ...base,
      key: `subscription-started:${sub.id}`,
      template: "subscription-started",
      props: {
        planName,
        amount: priceText(item?.price),
        nextRenewal: next.cancelAt ? null : isoOrNull(next.stripeCurrentPeriodEnd),
        trialEndsAt: sub.status === "trialing" && sub.trial_end ? fromUnix(sub.trial_end).toISOString() : null,
        invoiceUrl: invoice?.hosted_invoice_url ?? null,
        accountUrl,
      },
    });
  }

  // An attempted, still-open invoice is a failed payment; one email per invoice, however many retries fail.
  if (invoice?.id && invoice.status === "open" && invoice.attempted && invoice.amount_due > 0) {
    await add(tx, {
      ...base,
      key: `payment-failed:${invoice.id}`,
      template: "payment-failed",
      props: {
        planName,
        amountDue: formatMoney(invoice.amount_due, invoice.currency),
        invoiceUrl: invoice.hosted_invoice_url ?? null,
        accessEndsAt: isoOrNull(next.planExpires),
        accountUrl,
      },
    });
  }

  if (sub.status === "trialing" && sub.trial_end && sub.trial_end - now.getTime() / 1000 <= TRIAL_NOTICE_SECONDS && !next.cancelAt) {
    await add(tx, {
      ...base,
      key: `trial-ending:${sub.id}:${sub.trial_end}`,
      template: "trial-ending",
      props: { planName, trialEndsAt: fromUnix(sub.trial_end).toISOString(), amount: priceText(item?.price), accountUrl },
    });
  }

  const ended = sub.status === "canceled" || sub.status === "incomplete_expired";
  if (next.cancelAt && !ended && previous.cancelAt?.getTime() !== next.cancelAt.getTime()) {
    await add(tx, {
      ...base,
      key: `subscription-ending:${sub.id}:${Math.floor(next.cancelAt.getTime() / 1000)}`,
      template: "subscription-ending",
      props: { planName, kind: "scheduled", endsAt: next.cancelAt.toISOString(), pricingUrl: appUrl("/pricing"), accountUrl },
    });
  }
  // Only a subscription that was paid for ends with an email; an abandoned first payment (incomplete_expired) does not.
  if (sub.status === "canceled" && previous.stripeSubscriptionId === sub.id && previous.subscriptionStatus !== "canceled") {
    await add(tx, {
      ...base,
      key: `subscription-ended:${sub.id}`,
      template: "subscription-ending",
      props: { planName, kind: "ended", endsAt: isoOrNull(next.planExpires), pricingUrl: appUrl("/pricing"), accountUrl },
    });
  }
  return added;
}

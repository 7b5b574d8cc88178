// Formatting shared by server and client components. Dates use UTC so both render the same text.

export function formatDate(value: Date | string | number): string {
  return new Date(value).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

/** A moment to the minute, in UTC and saying so: "December 3, 2026, 14:05 UTC". */
export function formatDateTime(value: Date | string | number): string {
  const date = new Date(value);
  const time = date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
  return `${formatDate(date)}, ${time} UTC`;
}

export function formatTokens(count: number): string {
  return count.toLocaleString("en-US");
}

export function formatPriceCents(amountCents: number): string {
  return amountCents === 0 ? "$0" : `$${(amountCents / 100).toFixed(amountCents % 100 === 0 ? 0 : 2)}`;
}

const subscriptionStatusWords: Record<string, string> = {
  active: "Active",
  trialing: "Trial",
  past_due: "Past due",
  incomplete: "Payment pending",
  incomplete_expired: "Expired",
  unpaid: "Unpaid",
  canceled: "Canceled",
  paused: "Paused",
};

/** A Stripe subscription status as people read it: "past_due" is "Past due". */
export function formatSubscriptionStatus(status: string): string {
  const known = subscriptionStatusWords[status];
  if (known) return known;
  const words = status.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

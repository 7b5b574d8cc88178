// Formatting shared by server and client components. Dates use UTC so both render the same text.

export function formatDate(value: Date | string | number): string {
  return new Date(value).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

export function formatTokens(count: number): string {
  return count.toLocaleString("en-US");
}

export function formatPriceCents(amountCents: number): string {
  return amountCents === 0 ? "$0" : `$${(amountCents / 100).toFixed(amountCents % 100 === 0 ? 0 : 2)}`;
}

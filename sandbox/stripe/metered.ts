// Usage-based billing: what a metered price's meter aggregated for a customer over a service period, and the invoice
// line Stripe bills for it in arrears at the renewal (usage in [start, end), by event timestamp).
import type Stripe from "stripe";
import { invalidParameter } from "./errors";
import type { LineInput } from "./objects";
import type { SandboxState } from "./state";

export function isMetered(price: Stripe.Price): boolean {
  return price.recurring?.usage_type === "metered";
}

/** A metered item's quantity is its usage: Stripe refuses one given with it (`items[i]` / `line_items[i]`). */
export function refuseMeteredQuantity(price: Stripe.Price | undefined, quantity: number | undefined, at: string): void {
  if (price && isMetered(price) && quantity !== undefined) {
    throw invalidParameter(`${at}[quantity]`, `Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`${at}\`.`);
  }
}

/** The meter's aggregate (sum, count or last) of one customer's events timestamped in [start, end). */
export function meteredUsage(state: SandboxState, meterId: string, customer: string, start: number, end: number): number {
  const meter = state.meters?.[meterId];
  if (!meter) return 0;
  const events = (state.meterEvents ?? []).filter((e) => e.meter === meterId && e.customer === customer && e.event.timestamp >= start && e.event.timestamp < end);
  switch (meter.default_aggregation.formula) {
    case "count":
      return events.length;
    case "last":
      return events.at(-1)?.value ?? 0;
    case "sum":
    default:
      return events.reduce((sum, e) => sum + e.value, 0);
  }
}

/**
 * What `usage` units cost at this price: `transform_quantity` divides the usage first (rounded up or down, as the
 * price says), then `unit_amount_decimal` (cents, possibly fractional) per unit, rounded to the cent once per line.
 */
export function meteredAmount(price: Stripe.Price, usage: number): number {
  const transform = price.transform_quantity;
  const units = transform ? (transform.round === "up" ? Math.ceil(usage / transform.divide_by) : Math.floor(usage / transform.divide_by)) : usage;
  return Math.round(units * Number(price.unit_amount_decimal ?? price.unit_amount ?? 0));
}

/**
 * The renewal invoice's line for a metered item: the usage of the period that just ended. A final invoice
 * (`throughEnd`) also counts the usage stamped in the very second the subscription ended.
 */
export function meteredLine(
  state: SandboxState,
  item: Stripe.SubscriptionItem,
  customer: string,
  productName: string,
  period: { start: number; end: number },
  options: { throughEnd?: boolean } = {},
): LineInput {
  const meter = item.price.recurring?.meter ?? "";
  const usage = meteredUsage(state, meter, customer, period.start, options.throughEnd ? period.end + 1 : period.end);
  const per = item.price.transform_quantity ? ` per ${item.price.transform_quantity.divide_by}` : "";
  return {
    amount: meteredAmount(item.price, usage),
    description: `${usage} × ${productName} (at ${formatCents(item.price)}${per} / ${item.price.recurring?.interval ?? "month"})`,
    price: item.price,
    quantity: usage,
    periodStart: period.start,
    periodEnd: period.end,
    proration: false,
    subscriptionItem: item.id,
  };
}

function formatCents(price: Stripe.Price): string {
  const cents = Number(price.unit_amount_decimal ?? price.unit_amount ?? 0);
  return `$${(cents / 100).toFixed(Number.isInteger(cents) ? 2 : 4)}`;
}

// The monthly budget window of a yearly subscription: Stripe bills once a year, but the budget refills every month
// on the subscription's anniversary day (its billing_cycle_anchor), with no invoice and no cron. The window holding
// a moment is derived from the anchor alone, so any server finds the same one. Pure functions, no I/O.

export interface BudgetWindow {
  startsAt: Date;
  endsAt: Date;
}

/**
 * The anchor moved `months` months on, keeping its day, hour, minute, second and millisecond (UTC). A day the target
 * month lacks is clamped to its last day, as Stripe does (Jan 31 -> Feb 28 or 29 -> Mar 31): each step is counted
 * from the anchor itself, never from the clamped date before it.
 */
export function addMonthsClamped(anchor: Date, months: number): Date {
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(anchor.getUTCDate(), lastDay),
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}

/** How many whole months (anchor steps, clamped) lie between the anchor and `at` (at or after the anchor). */
export function monthsSinceAnchor(anchor: Date, at: Date): number {
  // A first guess from the calendar, corrected by at most a step either way (clamping and times of day).
  let k = (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (at.getUTCMonth() - anchor.getUTCMonth());
  while (k > 0 && addMonthsClamped(anchor, k).getTime() > at.getTime()) k -= 1;
  while (addMonthsClamped(anchor, k + 1).getTime() <= at.getTime()) k += 1;
  return k;
}

/**
 * The monthly window holding `now`: [anchor + k months, anchor + k+1 months). The end never passes `periodEnd` (the
 * paid year's end), so the last window of a year stops where the next invoice takes over. Null before the anchor or
 * from `periodEnd` on: no window of this paid period holds `now`.
 */
export function monthlyWindowAt(anchor: Date, periodEnd: Date, now: Date): BudgetWindow | null {
  const at = now.getTime();
  if (at < anchor.getTime() || at >= periodEnd.getTime()) return null;
  const k = monthsSinceAnchor(anchor, now);
  const startsAt = addMonthsClamped(anchor, k);
  const end = addMonthsClamped(anchor, k + 1);
  return { startsAt, endsAt: end.getTime() < periodEnd.getTime() ? end : periodEnd };
}

/**
 * The moment a monthly window is found at: `now`, or the customer's Stripe test clock time when it is ahead (test
 * mode: advancing a clock a month starts the next window, as the month passing would). Null clock: `now`.
 */
export function windowMoment(now: Date, testClockTime: Date | null): Date {
  return testClockTime !== null && testClockTime.getTime() > now.getTime() ? testClockTime : now;
}

// Usage history: what the chat cost, per day and per model, for the current billing period and the one before,
// summed from the stored answers (so the figures equal the messages exactly). Only reads.
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { usageByDay } from "@/db/queries/chats";
import { findUserById } from "@/db/queries/users";
import { addMonthsClamped, monthsSinceAnchor, type BudgetWindow } from "@/server/billing/budget-window";
import { yearlyBudgetWindowAt } from "@/server/billing/entitlement";
import { AppError } from "@/server/errors";

const DAY_MS = 86_400_000;

export interface PeriodUsage {
  start: Date;
  end: Date;
  tokens: number;
  answers: number;
  /** One row per UTC day and model with any answer, oldest first. */
  days: Array<{ day: string; model: string; tokens: number; answers: number }>;
  /** Totals per model, largest first. */
  models: Array<{ model: string; tokens: number; answers: number }>;
}

export const usagePeriodNames = ["current", "previous"] as const;
export type UsagePeriodName = (typeof usagePeriodNames)[number];

export interface UsageHistory {
  /** The period asked for (`current` unless the caller named another), also under its own name below. */
  period: PeriodUsage & { name: UsagePeriodName };
  current: PeriodUsage;
  previous: PeriodUsage;
}

/** The same instant `months` calendar months earlier (UTC), the day clamped to the month's length, as Stripe does. */
export function monthsBefore(date: Date, months: number): Date {
  const result = new Date(date);
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() - months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

/**
 * The current and previous periods: a monthly subscription's period ending at `periodEnd` (when it is ahead), else
 * the last 30 UTC days up to the end of today and the 30 before.
 */
export function usagePeriods(periodEnd: Date | null, now: Date = new Date()) {
  if (periodEnd && periodEnd > now) {
    const currentStart = monthsBefore(periodEnd, 1);
    return { previousStart: monthsBefore(periodEnd, 2), currentStart, end: periodEnd };
  }
  const end = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS + DAY_MS);
  return { previousStart: new Date(end.getTime() - 60 * DAY_MS), currentStart: new Date(end.getTime() - 30 * DAY_MS), end };
}

/**
 * A paid yearly plan's periods are its monthly budget windows: the current one, and the one before (anchored on the
 * same day of the month, clamped as Stripe does).
 */
export function windowPeriods(anchor: Date, window: BudgetWindow) {
  const months = monthsSinceAnchor(anchor, window.startsAt);
  return { previousStart: addMonthsClamped(anchor, months - 1), currentStart: window.startsAt, end: window.endsAt };
}

function summarize(rows: Awaited<ReturnType<typeof usageByDay>>, start: Date, end: Date): PeriodUsage {
  const models = new Map<string, { tokens: number; answers: number }>();
  for (const row of rows) {
    const total = models.get(row.model) ?? { tokens: 0, answers: 0 };
    models.set(row.model, { tokens: total.tokens + row.tokens, answers: total.answers + row.answers });
  }
  return {
    start,
    end,
    tokens: rows.reduce((sum, row) => sum + row.tokens, 0),
    answers: rows.reduce((sum, row) => sum + row.answers, 0),
    days: rows.map(({ day, model, tokens, answers }) => ({ day, model, tokens, answers })),
    models: [...models].map(([model, total]) => ({ model, ...total })).sort((a, b) => b.tokens - a.tokens || a.model.localeCompare(b.model)),
  };
}

export async function getUsageHistory(
  userId: string,
  deps: { db?: Db; now?: Date; period?: UsagePeriodName } = {},
): Promise<UsageHistory> {
  const db = deps.db ?? (await getDb());
  const user = await findUserById(db, userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Your account no longer exists. Sign in again.");
  const window = yearlyBudgetWindowAt(user, deps.now);
  const range = window && user.billingAnchor ? windowPeriods(user.billingAnchor, window) : usagePeriods(user.stripeCurrentPeriodEnd, deps.now);
  const rows = await usageByDay(db, userId, range);
  const current = summarize(rows.filter((row) => row.period === "current"), range.currentStart, range.end);
  const previous = summarize(rows.filter((row) => row.period === "previous"), range.previousStart, range.currentStart);
  const name = deps.period ?? "current";
  return { period: { name, ...(name === "current" ? current : previous) }, current, previous };
}

/**
 * One CSV field: numbers as they are, text quoted. Text a spreadsheet would run as a formula (a leading = + - @, tab
 * or carriage return) is kept as text with a leading apostrophe. Today every field is the server's own (a model id
 * from a stored answer), but a model id is the founder's to choose and this file is opened in spreadsheets.
 */
const csvField = (value: string | number) => {
  if (typeof value === "number") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${text.replaceAll('"', '""')}"`;
};

/** The history as CSV: one line per period, day and model. */
export function usageCsv(history: UsageHistory): string {
  const lines = ["period,day,model,tokens_charged,answers"];
  for (const name of ["previous", "current"] as const) {
    for (const row of history[name].days) lines.push([name, row.day, row.model, row.tokens, row.answers].map(csvField).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

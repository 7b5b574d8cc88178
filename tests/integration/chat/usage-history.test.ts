// usage.history on the real database: per period, day and model, summed from the stored answers, only the caller's;
// the CSV carries the same figures.
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { chatMessages, chats, users } from "@/db/schema";
import { addMonthsClamped } from "@/server/billing/budget-window";
import { monthsBefore, usageCsv, usagePeriods, windowPeriods } from "@/server/chat/usage-history";
import { loadApp } from "../../support/load-app";

let app: Awaited<ReturnType<typeof loadApp>>;
beforeAll(async () => {
  app = await loadApp();
});

/** A stored assistant message charging `charge` tokens. */
const answer = (userId: string, chat: string, createdAt: Date, model: string, charge: number) => ({
  chatId: chat,
  userId,
  role: "assistant" as const,
  text: "a",
  model,
  inputTokens: 1,
  outputTokens: 1,
  cachedInputTokens: 0,
  charge,
  createdAt,
});

const newUser = () => app.signUp({ email: `usage-${randomUUID()}@example.com`, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });

describe("usage.history", () => {
  it("sums the stored answers per period, UTC day and model, and leaves out user turns, other users and older periods", async () => {
    const db = await app.getDb();
    const user = await newUser();
    const other = await newUser();
    const periodEnd = new Date(Date.now() + 10 * 86_400_000);
    await db.update(users).set({ stripeCurrentPeriodEnd: periodEnd }).where(eq(users.id, user.id));
    const currentStart = monthsBefore(periodEnd, 1);
    const previousStart = monthsBefore(periodEnd, 2);
    const at = (base: Date, hours: number) => new Date(base.getTime() + hours * 3_600_000);

    const chatId = `u-${randomUUID()}`;
    const otherChat = `u-${randomUUID()}`;
    await db.insert(chats).values([
      { id: chatId, userId: user.id, title: "t" },
      { id: otherChat, userId: other.id, title: "t" },
    ]);
    const day1 = at(currentStart, 1);
    await db.insert(chatMessages).values([
      answer(user.id, chatId, day1, "small", 100),
      answer(user.id, chatId, at(day1, 1), "small", 50),
      answer(user.id, chatId, at(day1, 2), "large", 1_000),
      { chatId, userId: user.id, role: "user", text: "q", createdAt: at(day1, 1) },
      answer(user.id, chatId, at(previousStart, 5), "small", 7),
      answer(user.id, chatId, at(previousStart, -5), "small", 99_999),
      answer(other.id, otherChat, day1, "small", 12_345),
    ]);

    const history = await app.createCaller({ db, userId: user.id }).usage.history();
    expect(history.current.start).toEqual(currentStart);
    expect(history.current.end).toEqual(periodEnd);
    expect(history.current.tokens).toBe(1_150);
    expect(history.current.answers).toBe(3);
    const day = day1.toISOString().slice(0, 10);
    const laterDay = at(day1, 2).toISOString().slice(0, 10);
    expect(history.current.days).toEqual(
      day === laterDay
        ? [
            { day, model: "large", tokens: 1_000, answers: 1 },
            { day, model: "small", tokens: 150, answers: 2 },
          ]
        : expect.arrayContaining([{ day: laterDay, model: "large", tokens: 1_000, answers: 1 }]),
    );
    expect(history.current.models).toEqual([
      { model: "large", tokens: 1_000, answers: 1 },
      { model: "small", tokens: 150, answers: 2 },
    ]);
    expect(history.previous).toMatchObject({ start: previousStart, end: currentStart, tokens: 7, answers: 1 });
    expect(history.period).toEqual({ name: "current", ...history.current });
    const previous = await app.createCaller({ db, userId: user.id }).usage.history({ period: "previous" });
    expect(previous.period).toEqual({ name: "previous", ...history.previous });

    const csv = usageCsv(history).trim().split("\r\n");
    expect(csv[0]).toBe("period,day,model,tokens_charged,answers");
    expect(csv).toContain(`"previous","${at(previousStart, 5).toISOString().slice(0, 10)}","small",7,1`);
    const csvTotal = csv.slice(1).reduce((sum, line) => sum + Number(line.split(",")[3]), 0);
    expect(csvTotal).toBe(1_157);
  });

  it("groups a paid yearly plan by its monthly budget windows, not by the year", async () => {
    const db = await app.getDb();
    const user = await newUser();
    // Forty days into a paid year: the second monthly window.
    const anchor = new Date(Date.now() - 40 * 86_400_000);
    const yearEnd = addMonthsClamped(anchor, 12);
    await db
      .update(users)
      .set({ planActive: true, planId: "starter", subscriptionStatus: "active", billingInterval: "year", billingAnchor: anchor, stripeCurrentPeriodEnd: yearEnd, budgetRefilledFor: yearEnd })
      .where(eq(users.id, user.id));
    const chatId = `u-${randomUUID()}`;
    await db.insert(chats).values({ id: chatId, userId: user.id, title: "t" });
    const secondMonth = addMonthsClamped(anchor, 1);
    await db.insert(chatMessages).values([
      answer(user.id, chatId, new Date(secondMonth.getTime() + 60_000), "small", 30),
      answer(user.id, chatId, new Date(anchor.getTime() + 60_000), "small", 20),
      answer(user.id, chatId, new Date(anchor.getTime() - 60_000), "small", 10),
    ]);
    const history = await app.createCaller({ db, userId: user.id }).usage.history();
    expect(history.current).toMatchObject({ start: secondMonth, end: addMonthsClamped(anchor, 2), tokens: 30, answers: 1 });
    expect(history.previous).toMatchObject({ start: anchor, end: secondMonth, tokens: 20, answers: 1 });
  });

  it("answers zeros for a user with no answers, and refuses anonymous callers", async () => {
    const db = await app.getDb();
    const user = await newUser();
    const history = await app.createCaller({ db, userId: user.id }).usage.history();
    expect(history.current).toMatchObject({ tokens: 0, answers: 0, days: [], models: [] });
    await expect(app.createCaller({ db, userId: null }).usage.history()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    const caller = app.createCaller({ db, userId: user.id });
    await expect(caller.usage.history({ period: "last-year" } as never)).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("Choose a period: current or previous.") });
    await expect(caller.usage.history({ period: "current", extra: 1 } as never)).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("usage periods", () => {
  it("takes a yearly plan's window before the current one from the anchor, clamped (anchored on the 31st)", () => {
    const anchor = new Date("2027-01-31T12:00:00Z");
    const april = { startsAt: new Date("2027-04-30T12:00:00Z"), endsAt: new Date("2027-05-31T12:00:00Z") };
    expect(windowPeriods(anchor, april)).toEqual({ previousStart: new Date("2027-03-31T12:00:00Z"), currentStart: april.startsAt, end: april.endsAt });
    const first = { startsAt: anchor, endsAt: new Date("2027-02-28T12:00:00Z") };
    expect(windowPeriods(anchor, first).previousStart).toEqual(new Date("2026-12-31T12:00:00Z"));
  });

  it("steps back calendar months with the day clamped, as Stripe's monthly periods do", () => {
    expect(monthsBefore(new Date("2026-03-31T10:00:00Z"), 1).toISOString()).toBe("2026-02-28T10:00:00.000Z");
    expect(monthsBefore(new Date("2026-01-15T00:00:00Z"), 2).toISOString()).toBe("2025-11-15T00:00:00.000Z");
  });

  it("uses the subscription's period while it is ahead, else the last 30 UTC days and the 30 before", () => {
    const now = new Date("2026-12-02T13:00:00Z");
    expect(usagePeriods(new Date("2026-12-20T00:00:00Z"), now)).toEqual({
      previousStart: new Date("2026-10-20T00:00:00Z"),
      currentStart: new Date("2026-11-20T00:00:00Z"),
      end: new Date("2026-12-20T00:00:00Z"),
    });
    expect(usagePeriods(new Date("2026-11-20T00:00:00Z"), now)).toEqual({
      previousStart: new Date("2026-10-04T00:00:00Z"),
      currentStart: new Date("2026-11-03T00:00:00Z"),
      end: new Date("2026-12-03T00:00:00Z"),
    });
    expect(usagePeriods(null, now).end).toEqual(new Date("2026-12-03T00:00:00Z"));
  });
});

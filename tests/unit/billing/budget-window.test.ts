// The yearly plan's monthly window: anniversary days, Stripe's clamp to the month's last day, and the paid year's end.
import { describe, expect, it } from "vitest";
import { addMonthsClamped, monthlyWindowAt } from "@/server/billing/budget-window";

const utc = (iso: string) => new Date(iso);

describe("addMonthsClamped", () => {
  it("keeps the anchor's day and time of day", () => {
    expect(addMonthsClamped(utc("2026-03-15T10:20:30.400Z"), 1)).toEqual(utc("2026-04-15T10:20:30.400Z"));
    expect(addMonthsClamped(utc("2026-11-15T00:00:00Z"), 3)).toEqual(utc("2027-02-15T00:00:00Z"));
  });

  it("clamps the 31st to a shorter month's last day and returns to the 31st after it (counted from the anchor)", () => {
    const anchor = utc("2027-01-31T12:00:00Z");
    expect(addMonthsClamped(anchor, 1)).toEqual(utc("2027-02-28T12:00:00Z"));
    expect(addMonthsClamped(anchor, 2)).toEqual(utc("2027-03-31T12:00:00Z"));
    expect(addMonthsClamped(anchor, 3)).toEqual(utc("2027-04-30T12:00:00Z"));
    expect(addMonthsClamped(utc("2028-01-31T12:00:00Z"), 1)).toEqual(utc("2028-02-29T12:00:00Z"));
  });

  it("clamps the 29th and 30th in February, leap year or not", () => {
    expect(addMonthsClamped(utc("2027-01-29T00:00:00Z"), 1)).toEqual(utc("2027-02-28T00:00:00Z"));
    expect(addMonthsClamped(utc("2028-01-29T00:00:00Z"), 1)).toEqual(utc("2028-02-29T00:00:00Z"));
    expect(addMonthsClamped(utc("2028-01-30T00:00:00Z"), 1)).toEqual(utc("2028-02-29T00:00:00Z"));
    expect(addMonthsClamped(utc("2028-02-29T00:00:00Z"), 12)).toEqual(utc("2029-02-28T00:00:00Z"));
  });
});

describe("monthlyWindowAt", () => {
  const anchor = utc("2027-01-31T12:00:00Z");
  const yearEnd = utc("2028-01-31T12:00:00Z");

  it("finds the window holding a moment: Jan 31 -> Feb 28 -> Mar 31", () => {
    expect(monthlyWindowAt(anchor, yearEnd, utc("2027-01-31T12:00:00Z"))).toEqual({ startsAt: anchor, endsAt: utc("2027-02-28T12:00:00Z") });
    expect(monthlyWindowAt(anchor, yearEnd, utc("2027-02-28T11:59:59.999Z"))).toEqual({ startsAt: anchor, endsAt: utc("2027-02-28T12:00:00Z") });
    expect(monthlyWindowAt(anchor, yearEnd, utc("2027-02-28T12:00:00Z"))).toEqual({
      startsAt: utc("2027-02-28T12:00:00Z"),
      endsAt: utc("2027-03-31T12:00:00Z"),
    });
    expect(monthlyWindowAt(anchor, yearEnd, utc("2027-03-01T00:00:00Z"))?.endsAt).toEqual(utc("2027-03-31T12:00:00Z"));
    expect(monthlyWindowAt(anchor, yearEnd, utc("2027-03-31T12:00:00Z"))).toEqual({
      startsAt: utc("2027-03-31T12:00:00Z"),
      endsAt: utc("2027-04-30T12:00:00Z"),
    });
  });

  it("early in a month, before the anchor's day, is still the previous month's window", () => {
    expect(monthlyWindowAt(anchor, yearEnd, utc("2027-05-02T00:00:00Z"))).toEqual({
      startsAt: utc("2027-04-30T12:00:00Z"),
      endsAt: utc("2027-05-31T12:00:00Z"),
    });
  });

  it("has twelve windows in a paid year, the last ending at the year's end", () => {
    const ends: string[] = [];
    let at = anchor;
    for (;;) {
      const window = monthlyWindowAt(anchor, yearEnd, at);
      if (!window) break;
      expect(window.startsAt).toEqual(at);
      ends.push(window.endsAt.toISOString().slice(0, 10));
      at = window.endsAt;
    }
    expect(ends).toEqual([
      "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31",
      "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31",
    ]);
  });

  it("never ends after the paid period, and has no window before the anchor or from the period's end on", () => {
    const shortYear = utc("2027-06-10T00:00:00Z");
    expect(monthlyWindowAt(anchor, shortYear, utc("2027-06-01T00:00:00Z"))).toEqual({ startsAt: utc("2027-05-31T12:00:00Z"), endsAt: shortYear });
    expect(monthlyWindowAt(anchor, yearEnd, utc("2027-01-31T11:59:59Z"))).toBeNull();
    expect(monthlyWindowAt(anchor, yearEnd, yearEnd)).toBeNull();
  });
});

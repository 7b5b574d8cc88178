// The usage CSV as a spreadsheet reads it: quoted text, plain numbers, and no field that would run as a formula.
import { describe, expect, it } from "vitest";
import { usageCsv, type PeriodUsage } from "@/server/chat/usage-history";

const period = (days: PeriodUsage["days"]): PeriodUsage => ({
  start: new Date("2026-11-01T00:00:00Z"),
  end: new Date("2026-12-01T00:00:00Z"),
  tokens: days.reduce((sum, day) => sum + day.tokens, 0),
  answers: days.reduce((sum, day) => sum + day.answers, 0),
  days,
  models: [],
});

describe("usageCsv", () => {
  it("quotes text, doubles quotes inside it, and keeps formula-like model ids as text", () => {
    const current = period([
      { day: "2026-11-02", model: "small", tokens: 10, answers: 1 },
      { day: "2026-11-02", model: 'say "hi"', tokens: 5, answers: 2 },
      { day: "2026-11-03", model: "=HYPERLINK(\"http://x\")", tokens: 3, answers: 1 },
      { day: "2026-11-03", model: "+1", tokens: 1, answers: 1 },
      { day: "2026-11-03", model: "-2", tokens: 1, answers: 1 },
      { day: "2026-11-03", model: "@SUM(A1)", tokens: 1, answers: 1 },
      { day: "2026-11-03", model: "\tlarge", tokens: 1, answers: 1 },
      { day: "2026-11-03", model: "mini-2", tokens: 1, answers: 1 },
    ]);
    const csv = usageCsv({ period: { name: "current", ...current }, current, previous: period([]) });
    expect(csv.endsWith("\r\n")).toBe(true);
    expect(csv.trimEnd().split("\r\n")).toEqual([
      "period,day,model,tokens_charged,answers",
      '"current","2026-11-02","small",10,1',
      '"current","2026-11-02","say ""hi""",5,2',
      '"current","2026-11-03","\'=HYPERLINK(""http://x"")",3,1',
      '"current","2026-11-03","\'+1",1,1',
      '"current","2026-11-03","\'-2",1,1',
      '"current","2026-11-03","\'@SUM(A1)",1,1',
      '"current","2026-11-03","\'\tlarge",1,1',
      '"current","2026-11-03","mini-2",1,1',
    ]);
  });
});

import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { chatModels, isChatModelId } from "@/lib/chat-models";
import { signInUrl } from "@/lib/auth-redirect";
import { formatDate, formatTokens } from "@/lib/format";
import { getServerCaller } from "@/server/api/context";
import { getSessionUserId } from "@/server/auth";
import type { PeriodUsage } from "@/server/chat/usage-history";
import { CreditPacksSection } from "./credit-packs-section";

export const metadata: Metadata = { title: "Usage" };

const modelName = (id: string) => (isChatModelId(id) ? chatModels[id].displayName : id);
// One fill per model, in a fixed order, so a model keeps its colour on every chart.
const fills = ["fill-stone-800", "fill-amber-500", "fill-sky-600", "fill-emerald-600"];
const fillOf = (id: string) => fills[Math.max(0, Object.keys(chatModels).indexOf(id)) % fills.length];

/** Plain SVG: one stacked bar per day of the period, per model; the table below carries the same figures. */
function DailyChart({ usage, label }: { usage: PeriodUsage; label: string }) {
  const days: string[] = [];
  for (let t = Date.UTC(usage.start.getUTCFullYear(), usage.start.getUTCMonth(), usage.start.getUTCDate()); t < usage.end.getTime(); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  const perDay = new Map<string, number>();
  for (const row of usage.days) perDay.set(row.day, (perDay.get(row.day) ?? 0) + row.tokens);
  const max = Math.max(1, ...perDay.values());
  const width = Math.max(days.length, 1) * 10;
  const height = 120;
  return (
    <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" className="h-32 w-full" role="img" aria-label={label}>
      <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} className="stroke-stone-300" strokeWidth="1" />
      {days.map((day, index) => {
        let y = height;
        return usage.days
          .filter((row) => row.day === day)
          .map((row) => {
            const h = Math.max(1, (row.tokens / max) * (height - 4));
            y -= h;
            return (
              <rect key={`${day}-${row.model}`} x={index * 10 + 1} y={y} width="8" height={h} className={fillOf(row.model)}>
                <title>{`${day}: ${modelName(row.model)}, ${formatTokens(row.tokens)} tokens, ${row.answers} answers`}</title>
              </rect>
            );
          });
      })}
    </svg>
  );
}

function PeriodSection({ usage, title, id }: { usage: PeriodUsage; title: string; id: string }) {
  return (
    <section className="card" aria-labelledby={id} data-testid={`usage-${id}`}>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={id} className="text-lg font-semibold">{title}</h2>
        <p className="text-sm text-stone-600">
          {formatDate(usage.start)} – {formatDate(usage.end)}
        </p>
      </div>
      <p className="mt-2 text-2xl font-bold" data-testid={`usage-${id}-total`}>
        {formatTokens(usage.tokens)} tokens <span className="text-base font-normal text-stone-600">in {usage.answers.toLocaleString("en-US")} answers</span>
      </p>
      {usage.answers === 0 ? (
        <p className="mt-2 text-sm text-stone-600">No answers in this period.</p>
      ) : (
        <>
          <ul className="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-sm">
            {usage.models.map((m) => (
              <li key={m.model} className="flex items-center gap-2">
                <svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" className={fillOf(m.model)} /></svg>
                {modelName(m.model)}: {formatTokens(m.tokens)} tokens, {m.answers.toLocaleString("en-US")} answers
              </li>
            ))}
          </ul>
          <div className="mt-3">
            <DailyChart usage={usage} label={`Tokens charged per day, ${title.toLowerCase()}`} />
          </div>
          <div className="mt-3 overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Tokens charged per day and model, {title.toLowerCase()}</caption>
              <thead className="text-stone-500">
                <tr>
                  <th scope="col" className="py-1 pr-3 font-medium">Day</th>
                  <th scope="col" className="py-1 pr-3 font-medium">Model</th>
                  <th scope="col" className="py-1 pr-3 text-right font-medium">Tokens</th>
                  <th scope="col" className="py-1 text-right font-medium">Answers</th>
                </tr>
              </thead>
              <tbody>
                {usage.days.map((row) => (
                  <tr key={`${row.day}-${row.model}`} className="border-t border-stone-100">
                    <td className="py-1 pr-3 whitespace-nowrap">{row.day}</td>
                    <td className="py-1 pr-3">{modelName(row.model)}</td>
                    <td className="py-1 pr-3 text-right tabular-nums">{formatTokens(row.tokens)}</td>
                    <td className="py-1 text-right tabular-nums">{row.answers}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

export default async function UsagePage() {
  const userId = await getSessionUserId();
  if (!userId) redirect(signInUrl("/usage"));
  const caller = await getServerCaller();
  const [history, creditPacks] = await Promise.all([caller.usage.history(), caller.usage.creditPacks()]);
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-bold tracking-tight">Usage</h1>
        <div className="flex flex-wrap gap-3 text-sm">
          <a href="/usage/export" className="btn-secondary" download>
            Download CSV
          </a>
          <Link href="/account" className="btn-secondary">Account</Link>
        </div>
      </div>
      <p className="text-sm text-stone-600">
        Tokens charged against your budget for each answer, by day (UTC) and model. A model&apos;s weights decide its charge:{" "}
        {Object.values(chatModels)
          .map((m) => `${m.displayName} counts input x${m.weights.input}, output x${m.weights.output}`)
          .join("; ")}
        .
      </p>
      <PeriodSection usage={history.current} title="This period" id="current" />
      <PeriodSection usage={history.previous} title="Previous period" id="previous" />
      <CreditPacksSection packs={creditPacks} />
    </div>
  );
}

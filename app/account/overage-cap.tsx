"use client";
import { useMutation } from "@tanstack/react-query";
import { useState, useSyncExternalStore, type FormEvent } from "react";
import { formatTokens } from "@/lib/format";
import { useTRPC } from "@/lib/trpc/react";

const noSubscription = () => () => {};

/** The monthly overage spending cap (BILLING_OVERAGE=1): typed in dollars, sent in cents; 0 turns overage off. */
export function OverageCapForm({
  capCents,
  centsPer1000Tokens,
  capTokens,
  usedTokens,
  inTrial,
}: {
  capCents: number;
  centsPer1000Tokens: number;
  capTokens: number;
  usedTokens: number;
  inTrial: boolean;
}) {
  const trpc = useTRPC();
  // Disabled until hydrated: a press before that would submit the form natively, reloading the page with nothing
  // saved, and hydration puts the field back to its first value, dropping what was typed into it before.
  const hydrated = useSyncExternalStore(noSubscription, () => true, () => false);
  const [dollars, setDollars] = useState((capCents / 100).toFixed(2));
  const [saved, setSaved] = useState({ capCents, capTokens });
  const save = useMutation(trpc.account.setOverageCap.mutationOptions({ onSuccess: (next) => setSaved({ capCents: next.capCents, capTokens: next.capTokens }) }));

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    const value = Number(dollars);
    // Anything that is not a number goes to the server as is, whose answer says what is wrong with it.
    save.mutate({ capCents: Number.isFinite(value) ? Math.round(value * 100) : Number.NaN });
  }

  return (
    <section className="card" aria-labelledby="overage-heading" id="overage">
      <h2 id="overage-heading" className="text-lg font-semibold">Overage</h2>
      <p className="mt-1 text-sm text-stone-600">
        When this period&apos;s tokens and credit packs are used up, chat can continue at ${(centsPer1000Tokens / 100).toFixed(2)} per 1,000
        tokens, billed on your next invoice, up to the monthly cap you set here. A cap of $0 stops chat at your budget.
      </p>
      {inTrial ? (
        <p className="mt-2 text-sm text-stone-600" data-testid="overage-after-trial">
          Overage starts with your first paid month: during the trial, chat stops at the trial&apos;s tokens. You can set the cap now.
        </p>
      ) : null}
      <form onSubmit={onSubmit} className="mt-3 flex flex-wrap items-end gap-3">
        <div className="flex flex-col gap-1">
          <label htmlFor="overage-cap" className="text-sm font-medium">Monthly cap (USD)</label>
          <input
            id="overage-cap"
            type="number"
            inputMode="decimal"
            min={0}
            step={0.01}
            value={dollars}
            onChange={(event) => setDollars(event.target.value)}
            disabled={!hydrated}
            aria-describedby="overage-cap-status"
            className="w-36 rounded-lg border border-stone-300 px-3 py-2 text-sm"
            data-testid="overage-cap-input"
          />
        </div>
        <button type="submit" className="btn-secondary" disabled={!hydrated || save.isPending} data-testid="overage-cap-save">
          {save.isPending ? "Saving…" : "Save cap"}
        </button>
      </form>
      <p id="overage-cap-status" role="status" className="mt-2 text-sm text-stone-600" data-testid="overage-cap-status">
        {save.isError
          ? (inputError(save.error.data?.zodError?.fieldErrors) ?? save.error.message)
          : saved.capCents > 0
            ? `Up to ${formatTokens(saved.capTokens)} overage tokens a month${inTrial ? " after the trial" : `; ${formatTokens(usedTokens)} used this period`}.`
            : "Overage is off."}
      </p>
    </section>
  );
}

/** The first input error zod found (the server's words), rather than its JSON. */
function inputError(fieldErrors: Record<string, string[] | undefined> | undefined): string | undefined {
  return Object.values(fieldErrors ?? {}).flat()[0];
}

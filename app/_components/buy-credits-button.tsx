"use client";
import { useState, useSyncExternalStore } from "react";
import { formatPriceCents, formatTokens } from "@/lib/format";
import { getTrpcClient } from "@/lib/trpc/client";
import type { CreditPackId } from "@/server/billing/plans";

const noSubscription = () => () => {};

/**
 * Buys a credit pack: opens Stripe's hosted Checkout (payment mode), which comes back to /chat with the tokens added.
 * Disabled until hydrated, and while the browser leaves for Checkout, so one press makes one session.
 */
export function BuyCreditsButton({
  pack,
  className = "btn-primary",
}: {
  pack: { id: CreditPackId; tokens: number; amountCents: number };
  className?: string;
}) {
  const hydrated = useSyncExternalStore(noSubscription, () => true, () => false);
  const [state, setState] = useState<{ state: "idle" | "pending" } | { state: "failed"; message: string }>({ state: "idle" });
  const buy = () => {
    setState({ state: "pending" });
    getTrpcClient()
      .billing.buyCredits.mutate({ pack: pack.id })
      .then(({ url }) => window.location.assign(url))
      .catch((error: unknown) => setState({ state: "failed", message: error instanceof Error ? error.message : "Could not open the checkout." }));
  };
  return (
    <div>
      <button type="button" className={className} disabled={!hydrated || state.state === "pending"} onClick={buy} data-testid="buy-credits">
        {state.state === "pending" ? "Opening checkout…" : `Buy ${formatTokens(pack.tokens)} tokens for ${formatPriceCents(pack.amountCents)}`}
      </button>
      {state.state === "failed" ? <p role="alert" className="mt-2 text-sm text-red-700">{state.message}</p> : null}
    </div>
  );
}

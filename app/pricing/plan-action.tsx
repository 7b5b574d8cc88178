"use client";
import { useState } from "react";
import { getTrpcClient } from "@/lib/trpc/client";
import type { BillingInterval, PaidPlan } from "@/server/billing/plans";

/** A signed-in user without a plan: opens Checkout for `planId` at the interval the page shows. */
export function SubscribeButton({
  planId,
  planName,
  primary,
  interval,
}: {
  planId: PaidPlan["id"];
  planName: string;
  primary: boolean;
  interval: BillingInterval;
}) {
  const [checkout, setCheckout] = useState<{ state: "idle" | "pending" } | { state: "failed"; message: string }>({ state: "idle" });
  const subscribe = () => {
    setCheckout({ state: "pending" });
    getTrpcClient()
      .billing.createCheckoutSession.mutate({ plan: planId, interval })
      // Stays "pending" while the browser leaves for Checkout, so the button can't be pressed twice.
      .then(({ url }) => window.location.assign(url))
      .catch((error: unknown) =>
        setCheckout({ state: "failed", message: error instanceof Error ? error.message : "Something went wrong. Please try again." }),
      );
  };
  return (
    <div className="space-y-2">
      <button
        type="button"
        className={`${primary ? "btn-primary" : "btn-secondary"} w-full`}
        disabled={checkout.state === "pending"}
        onClick={subscribe}
        aria-label={`Subscribe to ${planName}`}
      >
        {checkout.state === "pending" ? "Opening checkout…" : "Subscribe"}
      </button>
      {checkout.state === "failed" ? <p role="alert" className="text-sm text-red-700">{checkout.message}</p> : null}
    </div>
  );
}

"use client";
import { useState, useSyncExternalStore } from "react";
import { getTrpcClient } from "@/lib/trpc/client";

const noSubscription = () => () => {};

/**
 * Opens the Stripe Billing Portal for the signed-in user (or its card form alone, with `flow`). Disabled until the page is hydrated: a press before that
 * would do nothing at all, which on a slow connection reads as a broken button.
 */
export function ManageBillingButton({
  className = "btn-primary",
  label = "Manage billing",
  flow,
}: {
  className?: string;
  label?: string;
  /** Opens the portal on one task (the card form) instead of its home page. */
  flow?: "payment_method_update";
}) {
  const hydrated = useSyncExternalStore(noSubscription, () => true, () => false);
  const [portal, setPortal] = useState<{ state: "idle" | "pending" } | { state: "failed"; message: string }>({ state: "idle" });
  const open = () => {
    setPortal({ state: "pending" });
    getTrpcClient()
      .billing.createPortalSession.mutate(flow ? { flow } : undefined)
      // Stays "pending" while the browser leaves for the portal, so the button can't be pressed twice.
      .then(({ url }) => window.location.assign(url))
      .catch((error: unknown) =>
        setPortal({ state: "failed", message: error instanceof Error ? error.message : "Could not open the billing portal." }),
      );
  };
  return (
    <div>
      <button type="button" className={className} disabled={!hydrated || portal.state === "pending"} onClick={open}>
        {portal.state === "pending" ? "Opening billing portal…" : label}
      </button>
      {portal.state === "failed" ? <p role="alert" className="mt-2 text-sm text-red-700">{portal.message}</p> : null}
    </div>
  );
}

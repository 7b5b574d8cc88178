"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { createContext, use, useEffect, useState, type ReactNode } from "react";
import { getTrpcClient, type RouterOutputs } from "@/lib/trpc/client";
import type { PlanId } from "@/server/billing/plans";
import { ManageBillingButton } from "../_components/manage-billing-button";

type Viewer =
  | { state: "loading" }
  | { state: "visitor" }
  | { state: "failed"; message: string }
  | { state: "signed-in"; billing: RouterOutputs["billing"]["status"] };

const ViewerContext = createContext<Viewer>({ state: "loading" });

/** Asks once, for every plan card, who is looking and what they already have (one batched request). */
export function PricingViewer({ children }: { children: ReactNode }) {
  const [viewer, setViewer] = useState<Viewer>({ state: "loading" });
  useEffect(() => {
    let live = true;
    const client = getTrpcClient();
    Promise.all([client.account.session.query(), client.billing.status.query()])
      .then(([session, billing]) => live && setViewer(session.user ? { state: "signed-in", billing } : { state: "visitor" }))
      .catch((error: unknown) => live && setViewer({ state: "failed", message: messageOf(error) }));
    return () => {
      live = false;
    };
  }, []);
  return <ViewerContext value={viewer}>{children}</ViewerContext>;
}

export function PlanAction({ planId, planName }: { planId: PlanId; planName: string }) {
  const viewer = use(ViewerContext);
  const [checkout, setCheckout] = useState<{ state: "idle" | "pending" } | { state: "failed"; message: string }>({ state: "idle" });

  if (viewer.state === "loading") {
    return <div className="h-10 w-full animate-pulse rounded-lg bg-stone-100" aria-hidden="true" />;
  }
  if (viewer.state === "visitor") {
    return (
      <Link href={`/sign-up?callbackUrl=${encodeURIComponent("/pricing")}`} className="btn-primary w-full">
        Sign up
      </Link>
    );
  }
  if (viewer.state === "failed") {
    return <p role="alert" className="text-sm text-red-700">{viewer.message}</p>;
  }
  const current = viewer.billing;
  if (current?.active) {
    return current.planId === planId ? (
      <div className="space-y-2">
        <p className="text-center text-sm font-semibold text-stone-700">Current plan</p>
        <ManageBillingButton className="btn-secondary w-full" />
      </div>
    ) : (
      <ManageBillingButton className="btn-secondary w-full" />
    );
  }
  if (planId === "free") {
    return <p className="text-center text-sm font-semibold text-stone-700">Your plan</p>;
  }
  const subscribe = () => {
    setCheckout({ state: "pending" });
    getTrpcClient()
      .billing.createCheckoutSession.mutate({ plan: planId })
      // Stays "pending" while the browser leaves for Checkout, so the button can't be pressed twice.
      .then(({ url }) => window.location.assign(url))
      .catch((error: unknown) => setCheckout({ state: "failed", message: messageOf(error) }));
  };
  return (
    <div className="space-y-2">
      <button
        type="button"
        className="btn-primary w-full"
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : "Something went wrong. Please try again.";
}

/** A note after coming back from Checkout without paying. */
export function CheckoutNotice() {
  const params = useSearchParams();
  if (params.get("checkout") !== "canceled") return null;
  return (
    <p role="status" className="rounded-lg border border-stone-200 bg-white px-4 py-3 text-center text-sm text-stone-700">
      Checkout was canceled. You have not been charged.
    </p>
  );
}

"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useTRPC } from "@/lib/trpc/react";
import { signInUrl } from "@/lib/auth-redirect";
import { ManageBillingButton } from "../_components/manage-billing-button";

export function PlanAction({ planId, planName }: { planId: string; planName: string }) {
  const trpc = useTRPC();
  const session = useQuery(trpc.account.session.queryOptions());
  const status = useQuery(trpc.billing.status.queryOptions());
  const checkout = useMutation(
    trpc.billing.createCheckoutSession.mutationOptions({ onSuccess: ({ url }) => window.location.assign(url) }),
  );

  if (session.isPending || (session.data?.user && status.isPending)) {
    return <div className="h-10 w-full animate-pulse rounded-lg bg-stone-100" aria-hidden="true" />;
  }
  if (!session.data?.user) {
    return (
      <Link href={`/sign-up?callbackUrl=${encodeURIComponent("/pricing")}`} className="btn-primary w-full">
        Sign up
      </Link>
    );
  }
  if (status.isError) {
    return <p role="alert" className="text-sm text-red-700">{status.error.message}</p>;
  }
  const current = status.data;
  if (current && current.active) {
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
  return (
    <div className="space-y-2">
      <button
        type="button"
        className="btn-primary w-full"
        disabled={checkout.isPending || checkout.isSuccess}
        onClick={() => checkout.mutate({ plan: planId as "starter" | "pro" })}
        aria-label={`Subscribe to ${planName}`}
      >
        {checkout.isPending || checkout.isSuccess ? "Opening checkout…" : "Subscribe"}
      </button>
      {checkout.isError ? <p role="alert" className="text-sm text-red-700">{checkout.error.message}</p> : null}
    </div>
  );
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

export { signInUrl };

"use client";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc/react";

/** Opens the Stripe Billing Portal for the signed-in user. */
export function ManageBillingButton({ className = "btn-primary", label = "Manage billing" }: { className?: string; label?: string }) {
  const trpc = useTRPC();
  const portal = useMutation(
    trpc.billing.createPortalSession.mutationOptions({ onSuccess: ({ url }) => window.location.assign(url) }),
  );
  return (
    <div>
      <button type="button" className={className} disabled={portal.isPending || portal.isSuccess} onClick={() => portal.mutate()}>
        {portal.isPending || portal.isSuccess ? "Opening billing portal…" : label}
      </button>
      {portal.isError ? <p role="alert" className="mt-2 text-sm text-red-700">{portal.error.message}</p> : null}
    </div>
  );
}

"use client";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/lib/trpc/react";
import { signOutAction } from "../auth-actions";

export function DeleteAccount() {
  const trpc = useTRPC();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation(trpc.billing.deleteAccount.mutationOptions({ onSuccess: async () => window.location.assign((await signOutAction()).redirectTo) }));

  return (
    <section className="card border-red-200" aria-labelledby="danger-heading">
      <h2 id="danger-heading" className="text-lg font-semibold text-red-800">Delete account</h2>
      <p className="mt-1 text-sm text-stone-600">
        Cancels your subscription immediately and deletes your account and its data. This cannot be undone.
      </p>
      {confirming ? (
        <div className="mt-4 flex flex-wrap items-center gap-3">
          <button type="button" className="btn-danger" disabled={remove.isPending || remove.isSuccess} onClick={() => remove.mutate()}>
            {remove.isPending ? "Deleting…" : "Yes, delete my account"}
          </button>
          <button type="button" className="btn-secondary" onClick={() => setConfirming(false)} disabled={remove.isPending}>
            Keep my account
          </button>
        </div>
      ) : (
        <button type="button" className="btn-danger mt-4" onClick={() => setConfirming(true)}>Delete account…</button>
      )}
      {remove.isError ? <p role="alert" className="mt-2 text-sm text-red-700">{remove.error.message}</p> : null}
    </section>
  );
}

"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/lib/trpc/react";
import { signOutAction } from "../auth-actions";

export function SessionNav() {
  const trpc = useTRPC();
  // Sign-in and sign-out reload the page, so this is asked afresh whenever the session changes.
  const session = useQuery(trpc.account.session.queryOptions());

  if (session.isPending) return <span className="inline-block h-8 w-32" aria-hidden="true" />;
  const user = session.data?.user;
  if (!user) {
    return (
      <div className="flex items-center gap-2 text-sm">
        <Link href="/sign-in" className="btn-secondary">Sign in</Link>
        <Link href="/sign-up" className="btn-primary">Sign up</Link>
      </div>
    );
  }
  return (
    <div className="flex items-center gap-3 text-sm">
      <Link href="/account" className="hidden font-medium text-stone-700 hover:text-stone-900 sm:inline" data-testid="session-email">
        {user.email}
      </Link>
      <form
        action={async () => {
          const { redirectTo } = await signOutAction();
          window.location.assign(redirectTo);
        }}
      >
        <button type="submit" className="btn-secondary">Sign out</button>
      </form>
    </div>
  );
}

"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect } from "react";
import { useTRPC } from "@/lib/trpc/react";
import { signOutAction } from "../auth-actions";

export function SessionNav() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pathname = usePathname();
  const session = useQuery(trpc.account.session.queryOptions());
  const { refetch } = session;

  // Sign-in and sign-out finish with a server redirect that keeps this layout mounted: look again on every page.
  useEffect(() => {
    void refetch();
  }, [pathname, refetch]);

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
      <form action={signOutAction} onSubmit={() => queryClient.clear()}>
        <button type="submit" className="btn-secondary">Sign out</button>
      </form>
    </div>
  );
}

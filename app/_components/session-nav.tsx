"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { getTrpcClient, type RouterOutputs } from "@/lib/trpc/client";
import { signOutAction } from "../auth-actions";

type SessionUser = RouterOutputs["account"]["session"]["user"];

export function SessionNav() {
  // undefined while loading, null when signed out. Sign-in and sign-out reload the page, so once is enough.
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    getTrpcClient()
      .account.session.query()
      .then((session) => live && setUser(session?.user ?? null))
      // The header is not the place to report an outage; offer sign-in, which reports it properly.
      .catch(() => live && setUser(null));
    return () => {
      live = false;
    };
  }, []);

  if (user === undefined) return <span className="inline-block h-8 w-32" aria-hidden="true" />;
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

import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { signInUrl } from "@/lib/auth-redirect";
import { getServerCaller } from "@/server/api/context";
import { getSessionUserId } from "@/server/auth";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  if (!(await getSessionUserId())) redirect(signInUrl("/account"));
  const caller = await getServerCaller();
  const me = await caller.account.me();
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold tracking-tight">Account</h1>
      <section className="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading" className="text-lg font-semibold">Profile</h2>
        <dl className="mt-3 grid grid-cols-[8rem_1fr] gap-y-2 text-sm">
          <dt className="text-stone-500">Email</dt>
          <dd data-testid="account-email">{me.email}</dd>
          <dt className="text-stone-500">Name</dt>
          <dd>{me.name ?? "—"}</dd>
          <dt className="text-stone-500">Member since</dt>
          <dd>{me.createdAt.toLocaleDateString("en-US", { dateStyle: "long" })}</dd>
        </dl>
      </section>
    </div>
  );
}

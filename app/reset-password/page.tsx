import type { Metadata } from "next";
import Link from "next/link";
import { ResetPasswordForm } from "../_components/email-forms";

export const metadata: Metadata = { title: "Choose a new password" };

export default async function ResetPasswordPage({ searchParams }: { searchParams: Promise<{ token?: string | string[] }> }) {
  const { token } = await searchParams;
  if (typeof token !== "string" || token === "") {
    return (
      <div className="mx-auto max-w-md">
        <h1 className="mb-1 text-2xl font-bold tracking-tight">Choose a new password</h1>
        <p role="alert" className="mb-6 text-stone-600">
          This page needs the link from your reset email. <Link href="/forgot-password" className="font-semibold underline">Ask for one</Link>.
        </p>
      </div>
    );
  }
  return (
    <div className="mx-auto max-w-md">
      <h1 className="mb-1 text-2xl font-bold tracking-tight">Choose a new password</h1>
      <p className="mb-6 text-stone-600">Pick a new password for your account.</p>
      <ResetPasswordForm token={token.slice(0, 200)} />
    </div>
  );
}

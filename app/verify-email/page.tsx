import type { Metadata } from "next";
import { VerifyEmailForm } from "../_components/email-forms";

export const metadata: Metadata = { title: "Confirm your email" };

// The link only opens this page; confirming takes a press of the button, so mail scanners that prefetch links
// cannot use up the single-use token.
export default async function VerifyEmailPage({ searchParams }: { searchParams: Promise<{ token?: string | string[] }> }) {
  const { token } = await searchParams;
  return (
    <div className="mx-auto max-w-md">
      <h1 className="mb-1 text-2xl font-bold tracking-tight">Confirm your email</h1>
      <p className="mb-6 text-stone-600">One click and your address is confirmed.</p>
      <VerifyEmailForm token={typeof token === "string" ? token.slice(0, 200) : ""} />
    </div>
  );
}

import type { Metadata } from "next";
import Link from "next/link";
import { safeCallbackPath } from "@/lib/safe-redirect";
import { AuthForm } from "../_components/auth-form";
import { OAuthButtons } from "../_components/oauth-buttons";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string | string[] }> }) {
  const callbackUrl = safeCallbackPath((await searchParams).callbackUrl);
  return (
    <div className="mx-auto max-w-md">
      <h1 className="mb-1 text-2xl font-bold tracking-tight">Sign in</h1>
      <p className="mb-6 text-stone-600">Welcome back.</p>
      <AuthForm mode="sign-in" callbackUrl={callbackUrl} />
      <p className="mt-3 text-center text-sm">
        <Link href="/forgot-password" className="text-stone-600 underline">Forgot your password?</Link>
      </p>
      <OAuthButtons callbackUrl={callbackUrl} />
    </div>
  );
}

import type { Metadata } from "next";
import { safeCallbackPath } from "@/lib/safe-redirect";
import { AuthForm } from "../_components/auth-form";
import { OAuthButtons } from "../_components/oauth-buttons";

export const metadata: Metadata = { title: "Create your account" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string | string[] }> }) {
  const callbackUrl = safeCallbackPath((await searchParams).callbackUrl);
  return (
    <div className="mx-auto max-w-md">
      <h1 className="mb-1 text-2xl font-bold tracking-tight">Create your account</h1>
      <p className="mb-6 text-stone-600">Start free. Subscribe when you need the chat.</p>
      <AuthForm mode="sign-up" callbackUrl={callbackUrl} />
      <OAuthButtons callbackUrl={callbackUrl} />
    </div>
  );
}

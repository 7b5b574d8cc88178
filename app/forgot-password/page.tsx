import type { Metadata } from "next";
import Link from "next/link";
import { ForgotPasswordForm } from "../_components/email-forms";

export const metadata: Metadata = { title: "Forgot password" };

export default function ForgotPasswordPage() {
  return (
    <div className="mx-auto max-w-md">
      <h1 className="mb-1 text-2xl font-bold tracking-tight">Forgot your password?</h1>
      <p className="mb-6 text-stone-600">Enter your email and we will send you a link to choose a new one.</p>
      <ForgotPasswordForm />
      <p className="mt-4 text-center text-sm text-stone-600">
        Remembered it? <Link href="/sign-in" className="font-semibold text-stone-900 underline">Sign in</Link>
      </p>
    </div>
  );
}

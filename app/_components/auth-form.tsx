"use client";
import Link from "next/link";
import { MIN_PASSWORD_LENGTH } from "@/lib/password-length";
import { useActionState, useEffect } from "react";
import { signInAction, signUpAction, type AuthFormState } from "../auth-actions";
import { FormField } from "./form-field";

export function AuthForm({ mode, callbackUrl }: { mode: "sign-up" | "sign-in"; callbackUrl: string }) {
  const [state, formAction, pending] = useActionState<AuthFormState, FormData>(
    mode === "sign-up" ? signUpAction : signInAction,
    {},
  );
  const isSignUp = mode === "sign-up";
  useEffect(() => {
    if (state.redirectTo) window.location.assign(state.redirectTo);
  }, [state.redirectTo]);
  const otherHref = `/${isSignUp ? "sign-in" : "sign-up"}?callbackUrl=${encodeURIComponent(callbackUrl)}`;

  return (
    <form action={formAction} className="card space-y-5" noValidate>
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      {state.message ? (
        <p role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {state.message}
        </p>
      ) : null}
      {isSignUp ? (
        <FormField label="Name (optional)" name="name" autoComplete="name" defaultValue={state.values?.name} errors={state.fieldErrors?.name} />
      ) : null}
      <FormField
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        defaultValue={state.values?.email}
        errors={state.fieldErrors?.email}
      />
      <FormField
        label="Password"
        name="password"
        type="password"
        autoComplete={isSignUp ? "new-password" : "current-password"}
        required
        minLength={isSignUp ? MIN_PASSWORD_LENGTH : undefined}
        hint={isSignUp ? `At least ${MIN_PASSWORD_LENGTH} characters; not a common password.` : undefined}
        errors={state.fieldErrors?.password}
      />
      <button type="submit" className="btn-primary w-full" disabled={pending || Boolean(state.redirectTo)}>
        {pending || state.redirectTo ? "Please wait…" : isSignUp ? "Create account" : "Sign in"}
      </button>
      <p className="text-center text-sm text-stone-600">
        {isSignUp ? "Already have an account? " : "New to Hourglass? "}
        <Link href={otherHref} className="font-semibold text-stone-900 underline">
          {isSignUp ? "Sign in" : "Create an account"}
        </Link>
      </p>
    </form>
  );
}

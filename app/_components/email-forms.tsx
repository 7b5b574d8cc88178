"use client";
// The small forms of the email flows. Each keeps one submit button and says what happened in a status line.
import Link from "next/link";
import { MIN_PASSWORD_LENGTH } from "@/lib/password-length";
import { useActionState, useEffect, useState, useTransition } from "react";
import {
  forgotPasswordAction,
  resendVerificationAction,
  resetPasswordAction,
  setBudgetEmailsAction,
  verifyEmailAction,
  type EmailFormState,
} from "../email-actions";
import { FormField } from "./form-field";

function Outcome({ state }: { state: EmailFormState }) {
  if (!state.message) return null;
  return state.ok ? (
    <p role="status" className="rounded-lg border border-green-200 bg-green-50 px-3 py-2 text-sm text-green-900">{state.message}</p>
  ) : (
    <p role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{state.message}</p>
  );
}

export function VerifyEmailForm({ token }: { token: string }) {
  const [state, formAction, pending] = useActionState<EmailFormState, FormData>(verifyEmailAction, {});
  return (
    <form action={formAction} className="card space-y-5">
      <input type="hidden" name="token" value={token} />
      <Outcome state={state} />
      {state.ok ? (
        <Link href="/pricing" className="btn-primary w-full">See plans</Link>
      ) : (
        <button type="submit" className="btn-primary w-full" disabled={pending}>
          {pending ? "Please wait…" : "Confirm email"}
        </button>
      )}
    </form>
  );
}

export function ForgotPasswordForm() {
  const [state, formAction, pending] = useActionState<EmailFormState, FormData>(forgotPasswordAction, {});
  return (
    <form action={formAction} className="card space-y-5" noValidate>
      <Outcome state={state} />
      <FormField label="Email" name="email" type="email" autoComplete="email" required defaultValue={state.values?.email}
        errors={state.fieldErrors?.email} />
      <button type="submit" className="btn-primary w-full" disabled={pending}>
        {pending ? "Please wait…" : "Send reset link"}
      </button>
    </form>
  );
}

export function ResetPasswordForm({ token }: { token: string }) {
  const [state, formAction, pending] = useActionState<EmailFormState, FormData>(resetPasswordAction, {});
  useEffect(() => {
    if (state.redirectTo) window.location.assign(state.redirectTo);
  }, [state.redirectTo]);
  return (
    <form action={formAction} className="card space-y-5" noValidate>
      <input type="hidden" name="token" value={token} />
      <Outcome state={state} />
      <FormField label="New password" name="password" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD_LENGTH}
        hint={`At least ${MIN_PASSWORD_LENGTH} characters; not a common password. Setting it signs you out on every other device.`} errors={state.fieldErrors?.password} />
      <button type="submit" className="btn-primary w-full" disabled={pending || Boolean(state.redirectTo)}>
        {pending || state.redirectTo ? "Please wait…" : "Set new password"}
      </button>
      {state.ok === false && !state.fieldErrors ? (
        <p className="text-center text-sm"><Link href="/forgot-password" className="font-semibold underline">Ask for a new link</Link></p>
      ) : null}
    </form>
  );
}

/** Shown to a signed-in user whose address is not confirmed yet: what it blocks, and a throttled "resend". */
export function VerifyEmailNotice({ email }: { email: string }) {
  const [state, setState] = useState<EmailFormState>({});
  const [pending, startTransition] = useTransition();
  return (
    <div role="region" aria-label="Confirm your email" data-testid="verify-email-notice"
      className="space-y-2 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900">
      <p>
        Confirm your email address to subscribe and chat: open the link we sent to <strong>{email}</strong>.
      </p>
      <div className="flex flex-wrap items-center gap-3">
        <button type="button" className="btn-secondary" disabled={pending}
          onClick={() => startTransition(async () => setState(await resendVerificationAction()))}>
          {pending ? "Sending…" : "Resend the link"}
        </button>
        {state.message ? <span role={state.ok ? "status" : "alert"}>{state.message}</span> : null}
      </div>
    </div>
  );
}

export function BudgetEmailsToggle({ enabled }: { enabled: boolean }) {
  const [checked, setChecked] = useState(enabled);
  const [state, setState] = useState<EmailFormState>({});
  const [pending, startTransition] = useTransition();
  return (
    <div className="flex flex-wrap items-center gap-3 text-sm">
      <label className="flex items-center gap-2">
        <input type="checkbox" data-testid="budget-emails-toggle" checked={checked} disabled={pending}
          onChange={(event) => {
            const next = event.target.checked;
            setChecked(next);
            startTransition(async () => setState(await setBudgetEmailsAction(next)));
          }} />
        Email me when I have used 80% and 100% of my chat tokens
      </label>
      {state.message ? <span role="status" className="text-stone-600">{state.message}</span> : null}
    </div>
  );
}

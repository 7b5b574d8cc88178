"use server";
// Form actions for the email flows: confirm an address, resend the link, forgot / reset password, and the budget
// email preference. Each parses the form, calls one server function, and maps an AppError to a message.
import { headers } from "next/headers";
import { getSessionUserId, signIn } from "@/server/auth";
import { resendVerificationEmail, verifyEmail } from "@/server/auth/email-verification";
import { requestPasswordReset, resetPassword } from "@/server/auth/password-reset";
import { clientAddress } from "@/server/auth/throttle";
import { setBudgetEmailPreference } from "@/server/mail/preferences";
import { AppError } from "@/server/errors";

export interface EmailFormState {
  ok?: boolean;
  message?: string;
  fieldErrors?: Partial<Record<"email" | "password", string[]>>;
  values?: { email?: string };
  redirectTo?: string;
}

const text = (form: FormData, key: string) => {
  const value = form.get(key);
  return typeof value === "string" ? value : undefined;
};

function failure(error: unknown, fallback: string, values?: EmailFormState["values"]): EmailFormState {
  if (error instanceof AppError && error.status < 500) {
    return { ok: false, message: error.message, fieldErrors: error.details?.fieldErrors as EmailFormState["fieldErrors"], values };
  }
  console.error(fallback, error);
  return { ok: false, message: `${fallback} Please try again.`, values };
}

export async function verifyEmailAction(_state: EmailFormState, form: FormData): Promise<EmailFormState> {
  try {
    await verifyEmail(text(form, "token"));
  } catch (error) {
    return failure(error, "We could not confirm your email just now.");
  }
  return { ok: true, message: "Your email address is confirmed. You can now choose a plan and chat." };
}

export async function resendVerificationAction(): Promise<EmailFormState> {
  const userId = await getSessionUserId();
  if (!userId) return { ok: false, message: "Sign in to ask for a new link." };
  try {
    const result = await resendVerificationEmail(userId);
    return "alreadyVerified" in result
      ? { ok: true, message: "Your email address is already confirmed." }
      : { ok: true, message: `We sent a new link to ${result.sentTo}.` };
  } catch (error) {
    return failure(error, "We could not send a new link just now.");
  }
}

export async function forgotPasswordAction(_state: EmailFormState, form: FormData): Promise<EmailFormState> {
  const email = text(form, "email");
  try {
    const { message } = await requestPasswordReset({ email }, { address: clientAddress(await headers()) });
    return { ok: true, message, values: { email } };
  } catch (error) {
    return failure(error, "We could not send the link just now.", { email });
  }
}

export async function resetPasswordAction(_state: EmailFormState, form: FormData): Promise<EmailFormState> {
  const password = text(form, "password");
  let email: string;
  try {
    ({ email } = await resetPassword({ token: text(form, "token"), password }, { address: clientAddress(await headers()) }));
  } catch (error) {
    return failure(error, "We could not set your new password just now.");
  }
  // Every older session was just revoked; this one is issued with the new session version.
  await signIn("credentials", { email, password, redirect: false });
  return { ok: true, message: "Your password is changed. Signing you in…", redirectTo: "/account" };
}

export async function setBudgetEmailsAction(enabled: boolean): Promise<EmailFormState> {
  const userId = await getSessionUserId();
  if (!userId) return { ok: false, message: "Sign in again to change this." };
  await setBudgetEmailPreference(userId, enabled);
  return { ok: true, message: enabled ? "Budget emails are on." : "Budget emails are off." };
}

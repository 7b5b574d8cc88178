"use server";
// Form actions for sign-up, sign-in and sign-out: parse the form, call the server function, map errors to
// field messages. On success they return where to go and the browser loads it afresh, so nothing cached from
// before the session changed (the header, plan buttons) survives.
import { AuthError, CredentialsSignin } from "next-auth";
import { headers } from "next/headers";
import { safeCallbackPath } from "@/lib/safe-redirect";
import { signIn, signOut, type SignInLocked } from "@/server/auth";
import { signUp } from "@/server/auth/sign-up";
import { lockedMessage, clientAddress } from "@/server/auth/throttle";
import { AppError } from "@/server/errors";

export interface AuthFormState {
  message?: string;
  fieldErrors?: Partial<Record<"name" | "email" | "password", string[]>>;
  values?: { name?: string; email?: string };
  /** Set on success: the page to load next. */
  redirectTo?: string;
}

const text = (form: FormData, key: string) => {
  const value = form.get(key);
  return typeof value === "string" ? value : undefined;
};

export async function signUpAction(_state: AuthFormState, form: FormData): Promise<AuthFormState> {
  const values = { name: text(form, "name"), email: text(form, "email") };
  const password = text(form, "password");
  try {
    await signUp({ ...values, password }, { address: clientAddress(await headers()) });
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const fieldErrors = error.details?.fieldErrors as AuthFormState["fieldErrors"];
      return { message: error.message, fieldErrors, values };
    }
    console.error("sign-up failed", error);
    return { message: "We could not create your account just now. Please try again.", values };
  }
  await signIn("credentials", { email: values.email, password, redirect: false });
  return { redirectTo: safeCallbackPath(text(form, "callbackUrl")) };
}

export async function signInAction(_state: AuthFormState, form: FormData): Promise<AuthFormState> {
  const email = text(form, "email");
  try {
    await signIn("credentials", { email, password: text(form, "password"), redirect: false });
  } catch (error) {
    if (error instanceof CredentialsSignin && error.code === "locked") {
      return { message: lockedMessage((error as SignInLocked).retryAfterSeconds), values: { email } };
    }
    if (error instanceof AuthError) {
      return { message: "That email and password do not match an account.", values: { email } };
    }
    throw error;
  }
  return { redirectTo: safeCallbackPath(text(form, "callbackUrl")) };
}

export async function signOutAction(): Promise<{ redirectTo: string }> {
  await signOut({ redirect: false });
  return { redirectTo: "/" };
}

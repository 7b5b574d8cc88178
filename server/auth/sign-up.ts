// Email + password sign-up: validates input, stores the user with a scrypt hash in one transaction, and hands
// the new user to the post-sign-up hook. A duplicate email is a CONFLICT, whoever wins a concurrent race.
import { z } from "zod";
import type { Db } from "@/db/client";
import { isUniqueViolation } from "@/db/errors";
import { getDb } from "@/db/index";
import { findUserByEmail, insertUser } from "@/db/queries/users";
import type { User } from "@/db/schema";
import { AppError } from "@/server/errors";
import { kickEmailDelivery } from "@/server/mail/deliverer";
import { enqueueVerificationEmail } from "./email-verification";
import { hashPassword, PasswordHashingBusyError } from "./password";
import { newPasswordSchema, passwordProblem } from "./password-policy";
import { createThrottle, SIGN_UP_LIMITS, type Throttle } from "./throttle";
import { schedulePostSignUp, type PostSignUpTask, type Scheduler } from "./post-sign-up";

export const emailSchema = z
  .string({ error: "Enter your email address." })
  .trim()
  .toLowerCase()
  .min(1, "Enter your email address.")
  .max(254, "That email address is too long.")
  .pipe(z.email("Enter a valid email address."));

export const signUpSchema = z.object({
  name: z
    .string()
    .trim()
    .max(100, "Keep your name under 100 characters.")
    // Control characters (a NUL cannot even be stored) have no place in a name shown on the account and in emails.
    .refine((name) => !/\p{Cc}/u.test(name), "Your name cannot contain control characters.")
    .optional()
    .transform((name) => name || undefined),
  email: emailSchema,
  password: newPasswordSchema,
});

export type SignUpInput = z.input<typeof signUpSchema>;

export async function signUp(
  input: unknown,
  deps: {
    db?: Db;
    schedule?: Scheduler;
    tasks?: readonly PostSignUpTask[];
    /** The client's address (server/auth/throttle.ts clientAddress), for the per-address limit. */
    address?: string | null;
    throttle?: Throttle;
  } = {},
): Promise<Pick<User, "id" | "email" | "name">> {
  const parsed = signUpSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError("BAD_REQUEST", parsed.error.issues[0]?.message ?? "Check the form and try again.", {
      details: { fieldErrors: z.flattenError(parsed.error).fieldErrors },
    });
  }
  const { name, email, password } = parsed.data;
  // Counted before any hashing: sign-up must not be a way around the sign-in throttle or a cheap way to burn CPU.
  const verdict = await (deps.throttle ?? createThrottle(SIGN_UP_LIMITS)).attempt({ account: email, address: deps.address });
  if (!verdict.allowed) {
    throw new AppError("TOO_MANY_REQUESTS", verdict.message, { details: { retryAfterSeconds: verdict.retryAfterSeconds } });
  }
  const problem = await passwordProblem(password, [email, name]);
  if (problem) throw new AppError("BAD_REQUEST", problem, { details: { fieldErrors: { password: [problem] } } });
  const db = deps.db ?? (await getDb());
  const passwordHash = await hashPassword(password).catch((error: unknown) => {
    if (error instanceof PasswordHashingBusyError) {
      throw new AppError("TOO_MANY_REQUESTS", "Too many sign-ups right now. Try again in a minute.", { details: { retryAfterSeconds: 60 } });
    }
    throw error;
  });

  const duplicate = () =>
    new AppError("CONFLICT", "An account with this email already exists. Sign in instead.", {
      details: { fieldErrors: { email: ["An account with this email already exists."] } },
    });
  let user: User;
  try {
    user = await db.transaction(async (tx) => {
      if (await findUserByEmail(tx, email)) throw duplicate();
      const created = await insertUser(tx, { email, name: name ?? null, passwordHash });
      await enqueueVerificationEmail(tx, created);
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate();
    throw error;
  }

  kickEmailDelivery();
  schedulePostSignUp({ id: user.id, email: user.email }, { schedule: deps.schedule, tasks: deps.tasks });
  return { id: user.id, email: user.email, name: user.name };
}

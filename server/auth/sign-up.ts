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
import { hashPassword } from "./password";
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
    .optional()
    .transform((name) => name || undefined),
  email: emailSchema,
  password: z
    .string({ error: "Choose a password." })
    .min(8, "Use at least 8 characters.")
    .max(128, "Use at most 128 characters."),
});

export type SignUpInput = z.input<typeof signUpSchema>;

export async function signUp(
  input: unknown,
  deps: { db?: Db; schedule?: Scheduler; tasks?: readonly PostSignUpTask[] } = {},
): Promise<Pick<User, "id" | "email" | "name">> {
  const parsed = signUpSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError("BAD_REQUEST", parsed.error.issues[0]?.message ?? "Check the form and try again.", {
      details: { fieldErrors: z.flattenError(parsed.error).fieldErrors },
    });
  }
  const { name, email, password } = parsed.data;
  const db = deps.db ?? (await getDb());
  const passwordHash = await hashPassword(password);

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

// The password policy for sign-up (and password reset): at least 10 characters, and not a common password or
// an easy variation of one. "Common" is zxcvbn-ts's maintained dictionary (@zxcvbn-ts/language-common: the
// most used passwords from breach corpora, plus keyboard patterns, repeats and sequences); a password it
// estimates below 10^6 guesses (score < 2) is refused. The user's email and name count as known words.
import { z } from "zod";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "@/lib/password-length";

/** The shape check, shared by every form that sets a password. */
export const newPasswordSchema = z
  .string({ error: "Choose a password." })
  .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`)
  .max(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters.`);

type Checker = (password: string, userInputs: string[]) => Promise<number>;
let checker: Promise<Checker> | undefined;

function loadChecker(): Promise<Checker> {
  // Loaded on first use: the dictionary is a few hundred kilobytes that only password forms need.
  checker ??= Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common")]).then(([core, common]) => {
    const zxcvbn = new core.ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });
    return async (password, userInputs) => (await zxcvbn.check(password, userInputs)).score;
  });
  return checker;
}

/** Why `password` is refused, or null when it is acceptable. `userInputs`: the email, name, anything personal. */
export async function passwordProblem(password: string, userInputs: readonly (string | null | undefined)[] = []): Promise<string | null> {
  const shape = newPasswordSchema.safeParse(password);
  if (!shape.success) return shape.error.issues[0]?.message ?? "Choose another password.";
  if (password.trim().length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters that are not spaces.`;
  const words = userInputs.flatMap((input) => (input ? [input, ...input.split(/[@.\s_+-]+/)] : [])).filter((word) => word.length >= 3);
  const score = await (await loadChecker())(password, words);
  if (score < 2) return "That password is too common or too easy to guess. Try a longer phrase of unrelated words.";
  return null;
}

// The one email preference a user controls: budget alerts (80% / 100% of the period's tokens). Every other email
// is transactional and always sent.
import type { Db } from "@/db/client";
import { getDb } from "@/db/index";
import { setBudgetEmails } from "@/db/queries/mail";

export async function setBudgetEmailPreference(userId: string, enabled: boolean, deps: { db?: Db } = {}): Promise<void> {
  await setBudgetEmails(deps.db ?? (await getDb()), userId, enabled === true);
}

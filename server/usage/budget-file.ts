// Keeps the in-process store's budgets in one JSON file, so restarting the dev server neither refills nor
// forgets anyone's budget. One process owns the file (a lock beside it); any other process that opens it keeps
// its budgets in memory only and says so. Reservations are not kept: a hold cut off by a restart stays charged,
// as an expired reservation does.
import fs from "node:fs";
import { z } from "zod";
import { acquireFileLock } from "@/lib/file-lock";

export interface PersistedBudget {
  tokensRemaining: number;
  /** The period end in ms: the budget and its reset marker both vanish then. */
  periodEndMs: number;
  /** The highest plan cap this period's budget was granted under (see BudgetStore.raiseCap); absent in older files. */
  capTokens?: number;
}

const budgetFileSchema = z.object({
  version: z.literal(1),
  budgets: z.record(z.string(), z.object({ tokensRemaining: z.number().int(), periodEndMs: z.number().int(), capTokens: z.number().int().nonnegative().optional() })),
});

export interface BudgetFile {
  /** The budgets whose period has not ended at `at`. */
  load(at: number): Map<string, PersistedBudget>;
  /** Replaces the file's content with the live budgets, atomically (a crash leaves the old or the new file). */
  save(budgets: ReadonlyMap<string, PersistedBudget>, at: number): void;
}

/** Opens `file` for this process, or returns null (with a warning) when another live process owns it. */
export function openBudgetFile(file: string): BudgetFile | null {
  const lock = acquireFileLock(`${file}.lock`);
  if (!lock.acquired) {
    console.warn(`[budget] ${file} belongs to process ${lock.heldBy}; this process keeps its budgets in memory only.`);
    return null;
  }
  return {
    load(at) {
      const budgets = new Map<string, PersistedBudget>();
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return budgets;
        throw error;
      }
      let parsed: z.infer<typeof budgetFileSchema>;
      try {
        parsed = budgetFileSchema.parse(JSON.parse(text));
      } catch {
        // Kept for a look, not silently overwritten; budgets with a paid period come back from Stripe on the next chat.
        const aside = `${file}.unreadable-${Date.now()}`;
        fs.renameSync(file, aside);
        console.warn(`[budget] ${file} could not be read; moved to ${aside} and starting with no budgets.`);
        return budgets;
      }
      for (const [userId, budget] of Object.entries(parsed.budgets)) {
        if (budget.periodEndMs > at) budgets.set(userId, budget);
      }
      return budgets;
    },
    save(budgets, at) {
      const live: Record<string, PersistedBudget> = {};
      for (const [userId, budget] of budgets) if (budget.periodEndMs > at) live[userId] = budget;
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, JSON.stringify({ version: 1, budgets: live }));
      fs.renameSync(temporary, file);
    },
  };
}

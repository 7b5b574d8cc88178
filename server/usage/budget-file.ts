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

/** A credit pack (see BudgetStore.grantPack); a revoked one stays as a marker until it expires. */
export interface PersistedPack {
  tokensRemaining: number;
  expiresAtMs: number;
  revoked: boolean;
}

const budgetFileSchema = z.object({
  version: z.literal(1),
  budgets: z.record(z.string(), z.object({ tokensRemaining: z.number().int(), periodEndMs: z.number().int(), capTokens: z.number().int().nonnegative().optional() })),
  /** Packs by user, then by pack id; absent in files written before packs. */
  packs: z
    .record(z.string(), z.record(z.string(), z.object({ tokensRemaining: z.number().int().nonnegative(), expiresAtMs: z.number().int(), revoked: z.boolean() })))
    .optional(),
});

export interface StoredBudgets {
  budgets: Map<string, PersistedBudget>;
  packs: Map<string, Map<string, PersistedPack>>;
}

export interface BudgetFile {
  /** The budgets whose period has not ended at `at`, and the packs not yet expired. */
  load(at: number): StoredBudgets;
  /** Replaces the file's content with the live budgets and packs, atomically (a crash leaves the old or the new file). */
  save(stored: StoredBudgets, at: number): void;
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
      const packs = new Map<string, Map<string, PersistedPack>>();
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return { budgets, packs };
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
        return { budgets, packs };
      }
      for (const [userId, budget] of Object.entries(parsed.budgets)) {
        if (budget.periodEndMs > at) budgets.set(userId, budget);
      }
      for (const [userId, userPacks] of Object.entries(parsed.packs ?? {})) {
        const live = new Map(Object.entries(userPacks).filter(([, pack]) => pack.expiresAtMs > at));
        if (live.size > 0) packs.set(userId, live);
      }
      return { budgets, packs };
    },
    save({ budgets, packs }, at) {
      const live: Record<string, PersistedBudget> = {};
      for (const [userId, budget] of budgets) if (budget.periodEndMs > at) live[userId] = budget;
      const livePacks: Record<string, Record<string, PersistedPack>> = {};
      for (const [userId, userPacks] of packs) {
        const kept = [...userPacks].filter(([, pack]) => pack.expiresAtMs > at);
        if (kept.length > 0) livePacks[userId] = Object.fromEntries(kept);
      }
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, JSON.stringify({ version: 1, budgets: live, packs: livePacks }));
      fs.renameSync(temporary, file);
    },
  };
}

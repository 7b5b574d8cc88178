// The chat's side of metered overage (BILLING_OVERAGE=1): when the period's budget and packs are spent, an answer
// is funded from the overage ledger instead, up to the cap the user set, and its settle writes one meter event to the
// outbox (never waiting on Stripe). An answer is funded from one source: the budget, or overage.
import { getDb } from "@/db/index";
import { findUserById } from "@/db/queries/users";
import { enqueueMeterEvent, kickMeterEventDelivery } from "@/server/billing/meter-events";
import { capTokensFor, OVERAGE_METER_EVENT, overageAwaitsPayment, userOverage } from "@/server/billing/overage";
import { getOverageStore, type OverageStore, type SettleResult } from "@/server/usage";

/** What a user may spend past the budget this period. */
export interface OverageTerms {
  capTokens: number;
  capCents: number;
  stripeCustomerId: string;
}

export interface ChatOverage {
  store: OverageStore;
  /** The user's overage terms, or null when they have none (no cap set, a plan or interval without overage). */
  termsFor(userId: string): Promise<OverageTerms | null>;
  /** Writes the answer's meter event to the outbox (idempotent per request id) and wakes the deliverer. */
  report(event: { requestId: string; userId: string; stripeCustomerId: string; tokens: number; occurredAt: Date }): Promise<void>;
}

/** The answer's overage hold: what the chat's settlement calls instead of the budget store. */
export interface OverageFunding {
  granted: number;
  capTokens: number;
  /** The refusal when what is left under the cap is too little for this conversation. */
  capReachedMessage: string;
  /** Settles the hold; `tokensRemaining` is the budget's, untouched by an overage answer. */
  settler: { settle(userId: string, requestId: string, tokens: number): Promise<SettleResult> };
  /** Overage tokens this answer was billed for, once settled. */
  charged(): number;
  /** Overage tokens held or charged this period, this answer's included. */
  used(): Promise<number>;
}

export type OverageHold = { ok: true; funding: OverageFunding } | { ok: false; message: string | null };

/** Overage from the database (the user's cap, plan and Stripe customer) and the process's overage store. */
export function databaseChatOverage(): ChatOverage {
  return {
    store: getOverageStore(),
    async termsFor(userId) {
      const user = await findUserById(await getDb(), userId);
      const overage = user ? userOverage(user) : null;
      if (!user || !overage || !user.stripeCustomerId || overageAwaitsPayment(user)) return null;
      const capTokens = capTokensFor(overage, user.overageCapCents);
      return capTokens > 0 ? { capTokens, capCents: user.overageCapCents, stripeCustomerId: user.stripeCustomerId } : null;
    },
    async report(event) {
      const added = await enqueueMeterEvent(await getDb(), {
        id: event.requestId,
        userId: event.userId,
        stripeCustomerId: event.stripeCustomerId,
        eventName: OVERAGE_METER_EVENT,
        tokens: event.tokens,
        occurredAt: event.occurredAt,
      });
      if (added) kickMeterEventDelivery();
    },
  };
}

/**
 * Holds overage tokens for an answer the budget refused. Refused (null message: the user has no overage, so the
 * budget's own 429 stands) or with the cap's message when the cap is reached.
 */
export async function holdOverage(
  overage: ChatOverage,
  request: { userId: string; requestId: string; upperBound: number; periodEndsAt: Date; budgetRemaining: number },
): Promise<OverageHold> {
  const { userId, requestId, upperBound, periodEndsAt, budgetRemaining } = request;
  const terms = await overage.termsFor(userId);
  if (!terms) return { ok: false, message: null };
  const held = await overage.store.reserve(userId, requestId, upperBound, terms.capTokens, periodEndsAt);
  const capReachedMessage =
    `You have used this period's tokens and reached your overage cap of $${(terms.capCents / 100).toFixed(2)}. ` +
    `Raise the cap on your account page, or wait for the budget to reset on ${periodEndsAt.toISOString().slice(0, 10)}.`;
  if (!held.ok) return { ok: false, message: capReachedMessage };
  let charged = 0;
  return {
    ok: true,
    funding: {
      granted: held.granted,
      capTokens: terms.capTokens,
      capReachedMessage,
      charged: () => charged,
      used: () => overage.store.read(userId, periodEndsAt),
      settler: {
        async settle(_userId, _requestId, tokens) {
          const result = await overage.store.settle(userId, requestId, periodEndsAt, tokens);
          charged = result.tokensCharged;
          // One event per answer, keyed by its request id; also when this settle was a repeat, so a report that
          // failed the first time is written now (the outbox ignores a second insert).
          if (charged > 0) {
            await overage.report({ requestId, userId, stripeCustomerId: terms.stripeCustomerId, tokens: charged, occurredAt: new Date() });
          }
          return { applied: result.applied, tokensRemaining: budgetRemaining };
        },
      },
    },
  };
}

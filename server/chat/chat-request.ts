// POST /api/chat without Next: caller -> input -> entitlement -> reserve an upper bound -> stream -> settle.
// Invariants: the model never runs without a reservation; every reservation is settled at most once (real usage,
// or a conservative charge on error); an unreachable store refuses the chat (503), it never grants free tokens.
import type { LanguageModelV3 } from "@ai-sdk/provider";
import {
  APICallError,
  RetryError,
  convertToModelMessages,
  streamText,
  createUIMessageStreamResponse,
  type LanguageModelUsage,
  type UIMessageChunk,
} from "ai";
import { env } from "@/lib/env";
import { AppError } from "@/server/errors";
import { startChatSpan, type ChatSpan } from "@/server/ops/chat-spans";
import { tracedBudgetStore } from "@/server/ops/budget-spans";
import { log } from "@/server/ops/log";
import {
  BudgetStoreUnavailableError,
  getBudgetStore,
  type BudgetStore,
  type ReserveResult,
  type SettleResult,
} from "@/server/usage";
import type { ChatMessageMetadata, ChatUIMessage } from "@/lib/chat-wire";
import { chargeFor, chatModels, isChatModelId, outputTokensWithin, upperBoundFor, type ChatModelId, type TokenWeights } from "@/lib/chat-models";
import { parseChatBody, type ChatTurn } from "./chat-input";
import { getChatEntitlement, restoreBudgetFromStripe, withBudgetAlerts, type ChatEntitlement } from "./entitlement";
import { guardModelStream, ModelNotStartedError } from "./guard-model-stream";
import { databaseChatOverage, holdOverage, type ChatOverage, type OverageFunding } from "./overage";
import { databaseChatHistory, type ChatHistory } from "./history";
import type { AnswerRecord } from "@/db/queries/chats";
import { getChatModel } from "./models";
import { countPromptTokens, countTokens } from "./token-count";

export type { ChatEntitlement } from "./entitlement";

export interface ChatDeps {
  store: BudgetStore;
  /** The provider model that answers for a catalogue model id (lib/chat-models). */
  getModel(id: ChatModelId): LanguageModelV3;
  getEntitlement(userId: string): Promise<ChatEntitlement>;
  /**
   * Asks billing to re-derive a budget that is missing (a lost in-process store, a failed reset) from Stripe.
   * Billing refills only a period whose first or renewal invoice is paid, so this never grants unearned tokens.
   */
  restoreBudget(userId: string): Promise<void>;
  /** Cap on the reply's length, and the reply's share of the reserved upper bound. */
  maxOutputTokens: number;
  /** Longest the model may stay silent (before its first token, or between two) before the answer fails. */
  modelSilenceTimeoutMs: number;
  newRequestId(): string;
  /** Where conversations sent with a chat id are saved. */
  history: ChatHistory;
  /** Metered overage past the budget (BILLING_OVERAGE=1); null when off. */
  overage: ChatOverage | null;
}

export const DEFAULT_MAX_OUTPUT_TOKENS = 1024;
export const PRICING_URL = "/pricing";
export const ACCOUNT_URL = "/account";

/** What a caller may replace; `model` answers for every model id (tests, the bench). */
export type ChatOverrides = Partial<ChatDeps> & { model?: LanguageModelV3 };

/** Fills in the production dependencies a caller did not pass. Throws only if the budget store cannot be built. */
function resolveDeps(overrides: ChatOverrides): ChatDeps {
  const { model } = overrides;
  return {
    store: tracedBudgetStore(overrides.store ?? withBudgetAlerts(getBudgetStore())),
    getModel: overrides.getModel ?? (model ? () => model : (id) => getChatModel(env, id)),
    getEntitlement: overrides.getEntitlement ?? getChatEntitlement,
    restoreBudget: overrides.restoreBudget ?? restoreBudgetFromStripe,
    maxOutputTokens: overrides.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    modelSilenceTimeoutMs: overrides.modelSilenceTimeoutMs ?? env.CHAT_MODEL_SILENCE_TIMEOUT_MS,
    newRequestId: overrides.newRequestId ?? (() => crypto.randomUUID()),
    history: overrides.history ?? databaseChatHistory,
    overage: overrides.overage !== undefined ? overrides.overage : env.BILLING_OVERAGE ? databaseChatOverage() : null,
  };
}

/**
 * Restoring a lost budget: the one repair the chat takes (and nothing on a read path: pages and billing.status only
 * read). Taken when a paying user's reserve finds no budget at all during a period their plan says is current.
 * 1. The store still has the marker of exactly this period (Redis lost or evicted only `chatbot-usage:<id>`): that
 *    period was paid for and reset, so the budget is put back to the plan's FULL budget for the period. What was
 *    spent before the loss is unknowable (the key was the only record); the full budget errs towards the paying
 *    user, bounded by one period's budget, rather than locking them out until renewal (0 would) or inventing a number.
 * 2. No record at all (Redis flushed, the in-process store or its file lost): billing re-derives the period from
 *    Stripe and refills it only if its first or renewal invoice is paid, so no unearned tokens are ever granted.
 */
async function restoreLostBudget(
  userId: string,
  period: { tokenBudget: number; periodEndsAt: Date },
  deps: Pick<ChatDeps, "store" | "restoreBudget">,
): Promise<void> {
  const restored = await deps.store.restore(userId, period.tokenBudget, period.periodEndsAt);
  if (restored.applied) {
    log.warn({ userId, tokens: period.tokenBudget, periodEndsAt: period.periodEndsAt.toISOString() }, "chat: restored a lost budget");
    return;
  }
  await deps.restoreBudget(userId);
}

/** Any store failure refuses the chat (fails closed); the store's own AppError already says so. */
const storeUnavailable = (cause: unknown) =>
  cause instanceof AppError
    ? cause
    : new BudgetStoreUnavailableError("the budget store failed", { cause });

function budgetExhausted(tokensRemaining: number, resetsAt: Date | null, message?: string): AppError {
  return new AppError(
    "TOO_MANY_REQUESTS",
    message ??
      (resetsAt
        ? `You have used all the tokens in this period's budget. It resets on ${resetsAt.toISOString().slice(0, 10)}.`
        : "You have no tokens left. Your budget is refilled when your plan renews."),
    { details: { tokensRemaining, resetsAt: resetsAt ? resetsAt.toISOString() : null }, retryAt: resetsAt },
  );
}

/**
 * How a model failure is settled (see README, "Chat model failures"):
 * - the model server refused the request before answering (an HTTP error status such as 401, 429 or 500, or no
 *   connection at all) and nothing was streamed: charge nothing, since no token was generated and providers do not
 *   bill a refused request;
 * - any other failure (silent past CHAT_MODEL_SILENCE_TIMEOUT_MS, a connection dropped mid-answer, an unknown
 *   error): charge the whole reservation, because the provider may have generated, and billed, tokens we never saw.
 *   The reservation is the upper bound the user agreed to, so the budget never undercharges the operator's bill.
 */
function modelRefusedRequest(error: unknown): boolean {
  const last = RetryError.isInstance(error) ? error.lastError : error;
  if (!APICallError.isInstance(last)) return false;
  if (last.statusCode !== undefined) return last.statusCode >= 400;
  const code = last.cause instanceof Error && "code" in last.cause ? last.cause.code : undefined;
  return typeof code === "string" && connectionRefusals.has(code);
}

const connectionRefusals = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** One log line: the error's kind, message and status, never its request body (the user's conversation). */
function describeModelError(error: unknown): string {
  const last = RetryError.isInstance(error) ? error.lastError : error;
  const attempts = RetryError.isInstance(error) ? ` after ${error.errors.length} attempts` : "";
  if (!(last instanceof Error)) return String(last);
  const status = APICallError.isInstance(last) && last.statusCode !== undefined ? ` (HTTP ${last.statusCode})` : "";
  return `${last.name}: ${last.message}${status}${attempts}`;
}

/**
 * Budget tokens to charge for a finished answer, by the model's weights: its reported input, cached-input and output
 * parts; with only a total reported, the total at the dearest weight (never above the grant); with nothing, the grant.
 */
function chargeFromUsage(weights: TokenWeights, usage: LanguageModelUsage | undefined, promptTokens: number, granted: number): number {
  if (usage === undefined) return granted;
  if (usage.outputTokens === undefined) {
    if (usage.totalTokens === undefined) return granted;
    return Math.min(granted, Math.ceil(usage.totalTokens * Math.max(weights.input, weights.output, weights.cachedInput)));
  }
  const cachedInputTokens = usage.inputTokenDetails?.cacheReadTokens ?? usage.cachedInputTokens ?? 0;
  return chargeFor(weights, { inputTokens: usage.inputTokens ?? promptTokens, outputTokens: usage.outputTokens, cachedInputTokens });
}

/** The model the request asked for (else the plan's default): 400 when unknown, 403 when the plan lacks it. */
function chooseModel(requested: string | undefined, included: readonly ChatModelId[]): ChatModelId {
  const fallback = included[0];
  if (requested === undefined) {
    if (fallback === undefined) throw new AppError("PAYMENT_REQUIRED", "Your plan does not include a chat model.", { details: { pricingUrl: PRICING_URL } });
    return fallback;
  }
  if (!isChatModelId(requested)) {
    throw new AppError("BAD_REQUEST", `Unknown model "${requested}". Choose one of: ${Object.keys(chatModels).join(", ")}.`);
  }
  if (!included.includes(requested)) {
    throw new AppError("FORBIDDEN", `Your plan does not include the ${chatModels[requested].displayName} model. See the plans that do on the pricing page.`);
  }
  return requested;
}

const asTokenCount = (tokens: number) => (Number.isFinite(tokens) ? Math.max(0, Math.ceil(tokens)) : 0);

/** Settles one reservation at most once, whichever of finish, abort or error comes first. */
function createSettlement(store: Pick<BudgetStore, "settle">, userId: string, requestId: string, span: ChatSpan) {
  let settled: Promise<{ tokensUsed: number; result: SettleResult } | null> | undefined;
  return {
    settle(tokens: number) {
      settled ??= (async () => {
        const tokensUsed = asTokenCount(tokens);
        try {
          const result = await store.settle(userId, requestId, tokensUsed);
          span.settled(tokensUsed, result.tokensRemaining);
          return { tokensUsed, result };
        } catch (error) {
          // The reservation stays charged until it expires: the user pays the reserved upper bound, the store loses nothing.
          log.error({ chatRequestId: requestId, err: error }, "chat: settle failed; the reservation stays charged");
          span.settled(tokensUsed, null, error);
          return null;
        }
      })();
      return settled;
    },
  };
}

/** The finish metadata of an overage answer, for the chat's alerts; a failed read leaves it out. */
async function overageUsage(overage: OverageFunding) {
  const overageUsed = await overage.used().catch(() => null);
  return overageUsed === null ? {} : { overageTokens: overage.charged(), overageUsed, overageCapTokens: overage.capTokens };
}

function toModelInput(turns: ChatTurn[]): Array<Omit<ChatUIMessage, "id">> {
  return turns.map((turn) => ({ role: turn.role, parts: [{ type: "text", text: turn.text }] }));
}

/**
 * Starts one chat answer and returns its stream. Every refusal is a thrown AppError (401, 400, 402, 429 with its
 * reset date, 503 when the budget cannot be checked); the route maps it to a response once (`errorResponse`).
 */
export async function startChat(
  request: Request,
  caller: { userId: string } | null,
  overrides: ChatOverrides = {},
): Promise<Response> {
  if (!caller) throw new AppError("UNAUTHORIZED", "Sign in to chat.");
  const { userId } = caller;

  const raw = await request.text().catch((cause: unknown) => {
    throw new AppError("BAD_REQUEST", "The request body could not be read.", { cause });
  });
  const input = parseChatBody(raw);
  if (!input.ok) throw new AppError("BAD_REQUEST", input.message);

  let deps: ChatDeps;
  try {
    deps = resolveDeps(overrides);
  } catch (cause) {
    throw storeUnavailable(cause);
  }

  const entitlement = await deps.getEntitlement(userId);
  if (!entitlement.active || entitlement.tokenBudget <= 0) {
    const message = entitlement.active
      ? "Your plan does not include chat tokens. Choose a plan with chat on the pricing page."
      : "Chat needs an active plan. Choose one on the pricing page.";
    throw new AppError("PAYMENT_REQUIRED", message, { details: { pricingUrl: PRICING_URL } });
  }
  if (entitlement.paymentDue?.stopped) {
    throw new AppError(
      "PAYMENT_REQUIRED",
      "Your last payment failed and the grace period is over: chat is paused until the open invoice is paid. " +
        "Pay it, or update your card in the billing portal (your account page).",
      { details: { invoiceUrl: entitlement.paymentDue.invoiceUrl, accountUrl: ACCOUNT_URL } },
    );
  }

  const modelId = chooseModel(input.model, entitlement.models);
  const { weights } = chatModels[modelId];
  const messages = await convertToModelMessages(toModelInput(input.turns));
  const promptTokens = countPromptTokens(messages);
  const upperBound = upperBoundFor(weights, promptTokens, deps.maxOutputTokens);
  const requestId = deps.newRequestId();
  const { store } = deps;

  // The plan's period end, unless it has passed (a renewal still on its way during the grace period).
  const periodEndsAt = entitlement.periodEndsAt && entitlement.periodEndsAt.getTime() > Date.now() ? entitlement.periodEndsAt : null;

  let reservation: ReserveResult;
  try {
    // A paid yearly plan refills every month with no invoice: the first reserve of a window starts it. The store's
    // reset applies once per window (a window already started, or a later one, is a no-op), expiring at its end.
    if (entitlement.refillsMonthly && periodEndsAt) await store.reset(userId, entitlement.tokenBudget, periodEndsAt);
    reservation = await store.reserve(userId, requestId, upperBound);
    // A paying user with no budget at all in a current period: the one repair step, then one more try.
    if (!reservation.ok && reservation.resetsAt === null && periodEndsAt) {
      await restoreLostBudget(userId, { tokenBudget: entitlement.tokenBudget, periodEndsAt }, deps);
      reservation = await store.reserve(userId, requestId, upperBound);
    }
  } catch (cause) {
    throw storeUnavailable(cause);
  }
  // Past the budget and packs, overage (when on and the user set a cap) funds the answer instead: when nothing is left,
  // and when what is left cannot carry this prompt (those last tokens go back to the budget, unused).
  let overage: OverageFunding | null = null;
  let overageRefusal: string | null = null;
  const hold = (budgetRemaining: number) =>
    deps.overage && periodEndsAt
      ? holdOverage(deps.overage, { userId, requestId, upperBound, periodEndsAt, budgetRemaining }).catch((cause: unknown) => {
          throw storeUnavailable(cause);
        })
      : null;
  if (!reservation.ok) {
    const held = await hold(0);
    if (!held?.ok) throw budgetExhausted(reservation.tokensRemaining, reservation.resetsAt ?? periodEndsAt, held?.message ?? undefined);
    overage = held.funding;
  } else if (deps.overage && outputTokensWithin(weights, reservation.granted, promptTokens) < 1) {
    const held = await hold(reservation.tokensRemaining + reservation.granted);
    if (held?.ok) {
      await store.settle(userId, requestId, 0).catch((error: unknown) => log.error({ chatRequestId: requestId, err: error }, "chat: could not give back the budget's last tokens"));
      overage = held.funding;
    } else {
      overageRefusal = held?.message ?? null;
    }
  }

  const granted = overage ? overage.granted : reservation.ok ? reservation.granted : 0;
  const chatSpan = startChatSpan({ userId, chatRequestId: requestId, modelId, promptTokens, reservedTokens: granted });
  const settlement = createSettlement(overage?.settler ?? store, userId, requestId, chatSpan);
  const outputCap = Math.min(deps.maxOutputTokens, outputTokensWithin(weights, granted, promptTokens));
  if (outputCap < 1) {
    const settled = await settlement.settle(0);
    throw budgetExhausted(
      settled?.result.tokensRemaining ?? reservation.tokensRemaining,
      periodEndsAt,
      overage?.capReachedMessage ??
        overageRefusal ??
        `This conversation needs about ${promptTokens.toLocaleString("en-US")} tokens, more than your budget has left. ` +
          "Start a new chat with a shorter history, or wait for the budget to reset.",
    );
  }

  const { chatId } = input;
  const lastTurn = input.turns.at(-1);
  const turn = lastTurn ? { text: lastTurn.text, at: new Date() } : null;
  // A chat this process has seen the user write to (a conversation going on) is answered at once, and its turn is
  // written with the answer at the end, in one statement. Any other chat id has its turn saved now, while the AI SDK
  // sets the answer's stream up: the model is called only once `mayAnswer` says so, and another user's chat id gets
  // a 404 with nothing streamed, charged or sent to the model. A failed save is logged and the answer goes on.
  const saveTurn = (id: string, saved: { text: string; at: Date }, answer?: AnswerRecord & { id: string; at: Date }) =>
    deps.history.saveUserTurn(userId, id, saved, answer).catch((error: unknown) => {
      log.error({ chatRequestId: requestId, chatId: id, err: error }, "chat: could not save the user's turn; answering anyway");
      return "unsaved" as const;
    });
  const knownChat = chatId !== undefined && deps.history.isKnownChat(userId, chatId);
  const turnSaved = chatId && turn && !knownChat ? saveTurn(chatId, turn) : null;
  let allowAnswer: (allowed: boolean) => void = () => undefined;
  const mayAnswer = new Promise<boolean>((resolve) => (allowAnswer = resolve));
  const notAnswered = new AbortController();
  /**
   * A known chat's one write, once: its turn with the answer, or alone when there is none (a failed model keeps the
   * question). True when it saved `answer`.
   */
  let knownChatSaved: Promise<boolean> | null = null;
  const saveKnownChat = (answer?: AnswerRecord & { id: string; at: Date }): Promise<boolean> => {
    if (!knownChat || !chatId || !turn) return Promise.resolve(false);
    knownChatSaved ??= saveTurn(chatId, turn, answer).then((saved) => {
      if (saved === "foreign") log.warn({ chatRequestId: requestId, chatId }, "chat: a known chat's id now belongs to another user; nothing is saved");
      return answer !== undefined && (saved === "saved" || saved === "repeated");
    });
    return knownChatSaved;
  };

  /**
   * Settles the answer and saves it with its charge at once, neither waiting for the other; the stream ends once both
   * are done, so a next turn finds this one complete. When the budget was charged otherwise than `tokens` (settled
   * already, or a failed settle leaving the whole reservation charged), the saved charge is corrected, so the history
   * always sums to what the budget was charged. A failed save is logged; the answer stands.
   */
  const settleAndSave = async (tokens: number, usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number } | null) => {
    const charge = asTokenCount(tokens);
    // A NUL from the model is kept visible as U+FFFD: Postgres cannot store U+0000, and the answer must be saved.
    const text = streamedText.replaceAll("\u0000", "\uFFFD");
    const answer = usage ? { id: crypto.randomUUID(), text, model: modelId, ...usage, charge, at: new Date() } : undefined;
    // Another chat's turn was saved when it came: its statement holds the chat's row until it commits, so the
    // answer's, which updates that row, lands after it; another user's chat gets no answer (the query checks the owner).
    const saving = knownChat
      ? saveKnownChat(answer)
      : chatId && answer
        ? deps.history.saveAnswer(userId, chatId, answer).catch((error: unknown) => {
            log.error({ chatRequestId: requestId, chatId, err: error }, "chat: could not save the answer");
            return false;
          })
        : false;
    const [settled, saved] = await Promise.all([settlement.settle(charge), saving, turnSaved]);
    const charged = settled?.tokensUsed ?? granted;
    if (answer && saved && charged !== charge) {
      await deps.history.setAnswerCharge(userId, answer.id, charged).catch((error: unknown) => {
        log.error({ chatRequestId: requestId, chatId, err: error }, "chat: could not correct the saved answer's charge");
      });
    }
    return settled;
  };
  const usageParts = (usage: LanguageModelUsage | undefined) => ({
    inputTokens: usage?.inputTokens ?? promptTokens,
    outputTokens: usage?.outputTokens ?? countTokens(streamedText),
    cachedInputTokens: usage?.inputTokenDetails?.cacheReadTokens ?? usage?.cachedInputTokens ?? 0,
  });

  let streamedText = "";
  const result = streamText({
    model: guardModelStream(deps.getModel(modelId), { silenceTimeoutMs: deps.modelSilenceTimeoutMs, startWhen: mayAnswer }),
    messages,
    maxOutputTokens: outputCap,
    abortSignal: AbortSignal.any([request.signal, notAnswered.signal]),
    onChunk({ chunk }) {
      if (chunk.type === "text-delta") streamedText += chunk.text;
    },
    async onFinish({ totalUsage }) {
      chatSpan.usage(totalUsage);
      await settleAndSave(chargeFromUsage(weights, totalUsage, promptTokens, granted), usageParts(totalUsage));
    },
    onAbort({ steps }) {
      // A stopped stream reports no usage for its unfinished step: charge what finished steps reported, plus the
      // prompt and the text streamed so far measured with our tokenizer. A stopped answer is kept as far as it got.
      const finished = steps.reduce((sum, step) => sum + chargeFromUsage(weights, step.usage, promptTokens, granted), 0);
      const unfinished =
        steps.length === 0 ? chargeFor(weights, { inputTokens: promptTokens, outputTokens: countTokens(streamedText), cachedInputTokens: 0 }) : 0;
      void settleAndSave(finished + unfinished, streamedText.trim() === "" ? null : usageParts(undefined));
    },
    onError({ error }) {
      if (error instanceof ModelNotStartedError) return settlement.settle(0).then(() => undefined);
      const refused = modelRefusedRequest(error) && streamedText === "";
      log.error({ chatRequestId: requestId, error: describeModelError(error) }, "chat: the model failed to answer");
      return settlement.settle(refused ? 0 : granted).then(() => undefined);
    },
  });

  type Chunk = UIMessageChunk<ChatMessageMetadata>;
  let finishChunk: Extract<Chunk, { type: "finish" }> | undefined;
  const withBudgetMetadata = new TransformStream<Chunk, Chunk>({
    transform(chunk, controller) {
      // Hold the finish until the stream has ended, so onFinish has settled and the remaining count is real.
      if (chunk.type === "finish") finishChunk = chunk;
      else controller.enqueue(chunk);
    },
    async flush(controller) {
      // The turn is saved before the stream ends, with or without an answer (a failed model keeps the question).
      await Promise.all([turnSaved, saveKnownChat()]);
      if (!finishChunk) return;
      // Returns the settlement onFinish started; if no callback ran at all, charges the whole reservation.
      const settled = await settlement.settle(granted);
      const overageMetadata = overage ? await overageUsage(overage) : {};
      controller.enqueue(
        settled
          ? { ...finishChunk, messageMetadata: { tokensUsed: settled.tokensUsed, tokensRemaining: settled.result.tokensRemaining, model: modelId, ...overageMetadata } }
          : finishChunk,
      );
    },
  });

  if ((await turnSaved) === "foreign") {
    // Settled before the model's gate closes, so nothing the stream does next can charge it.
    await settlement.settle(0);
    allowAnswer(false);
    notAnswered.abort();
    throw new AppError("NOT_FOUND", "This chat does not exist. Start a new chat.");
  }
  allowAnswer(true);

  return createUIMessageStreamResponse({
    stream: result.toUIMessageStream<ChatUIMessage>({ onError: () => "The model failed to answer. Please try again." }).pipeThrough(withBudgetMetadata),
    headers: { "X-Tokens-Reserved": String(granted) },
  });
}

// POST /api/chat without Next: caller -> input -> entitlement -> reserve an upper bound -> stream -> settle.
// Invariants: the model never runs without a reservation; every reservation is settled at most once (real usage,
// or a conservative charge on error); an unreachable store refuses the chat (503), it never grants free tokens.
import {
  convertToModelMessages,
  streamText,
  createUIMessageStreamResponse,
  type LanguageModel,
  type LanguageModelUsage,
  type UIMessageChunk,
} from "ai";
import { AppError, errorResponse } from "@/server/errors";
import { getBudgetStore, type BudgetStore, type ReserveResult, type SettleResult } from "@/server/usage";
import type { ChatMessageMetadata, ChatUIMessage } from "./chat-ui-message";
import { parseChatBody, type ChatTurn } from "./chat-input";
import { getChatEntitlement, restoreBudgetFromStripe, withBudgetAlerts, type ChatEntitlement } from "./entitlement";
import { getChatModel } from "./models";
import { countPromptTokens, countTokens } from "./token-count";

export type { ChatEntitlement } from "./entitlement";

export interface ChatDeps {
  store: BudgetStore;
  model: LanguageModel;
  getEntitlement(userId: string): Promise<ChatEntitlement>;
  /**
   * Asks billing to re-derive a budget that is missing (a lost in-process store, a failed reset) from Stripe.
   * Billing refills only a period whose first or renewal invoice is paid, so this never grants unearned tokens.
   */
  restoreBudget(userId: string): Promise<void>;
  /** Cap on the reply's length, and the reply's share of the reserved upper bound. */
  maxOutputTokens: number;
  newRequestId(): string;
}

export const DEFAULT_MAX_OUTPUT_TOKENS = 1024;
export const PRICING_URL = "/pricing";

/** Fills in the production dependencies a caller did not pass. Throws only if the budget store cannot be built. */
function resolveDeps(overrides: Partial<ChatDeps>): ChatDeps {
  return {
    store: overrides.store ?? withBudgetAlerts(getBudgetStore()),
    model: overrides.model ?? getChatModel(),
    getEntitlement: overrides.getEntitlement ?? getChatEntitlement,
    restoreBudget: overrides.restoreBudget ?? restoreBudgetFromStripe,
    maxOutputTokens: overrides.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    newRequestId: overrides.newRequestId ?? (() => crypto.randomUUID()),
  };
}

const storeUnavailable = (cause: unknown) =>
  new AppError("SERVICE_UNAVAILABLE", "Chat is unavailable right now because the token budget cannot be checked. Please try again shortly.", {
    cause,
  });

function budgetExhausted(tokensRemaining: number, resetsAt: Date | null, message?: string): Response {
  const retryAfterSeconds = resetsAt ? Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000)) : null;
  const error = new AppError(
    "TOO_MANY_REQUESTS",
    message ??
      (resetsAt
        ? `You have used all the tokens in this period's budget. It resets on ${resetsAt.toISOString().slice(0, 10)}.`
        : "You have no tokens left. Your budget is refilled when your plan renews."),
    { details: { tokensRemaining, resetsAt: resetsAt ? resetsAt.toISOString() : null } },
  );
  return errorResponse(error, retryAfterSeconds === null ? undefined : { "Retry-After": String(retryAfterSeconds) });
}

/** Tokens to charge for a finished answer: the reported total, else its parts, else the whole grant. */
function tokensFromUsage(usage: LanguageModelUsage | undefined, promptTokens: number, granted: number): number {
  if (usage === undefined) return granted;
  if (usage.totalTokens !== undefined) return usage.totalTokens;
  if (usage.outputTokens === undefined) return granted;
  return (usage.inputTokens ?? promptTokens) + usage.outputTokens;
}

const asTokenCount = (tokens: number) => (Number.isFinite(tokens) ? Math.max(0, Math.ceil(tokens)) : 0);

/** Settles one reservation at most once, whichever of finish, abort or error comes first. */
function createSettlement(store: BudgetStore, userId: string, requestId: string) {
  let settled: Promise<{ tokensUsed: number; result: SettleResult } | null> | undefined;
  return {
    settle(tokens: number) {
      settled ??= (async () => {
        const tokensUsed = asTokenCount(tokens);
        try {
          return { tokensUsed, result: await store.settle(userId, requestId, tokensUsed) };
        } catch (error) {
          // The reservation stays charged until it expires: the user pays the reserved upper bound, the store loses nothing.
          console.error(`[chat] settle failed for request ${requestId}; the reservation stays charged`, error);
          return null;
        }
      })();
      return settled;
    },
  };
}

function toModelInput(turns: ChatTurn[]): Array<Omit<ChatUIMessage, "id">> {
  return turns.map((turn) => ({ role: turn.role, parts: [{ type: "text", text: turn.text }] }));
}

export async function handleChatRequest(
  request: Request,
  caller: { userId: string } | null,
  overrides: Partial<ChatDeps> = {},
): Promise<Response> {
  if (!caller) return errorResponse(new AppError("UNAUTHORIZED", "Sign in to chat."));
  const { userId } = caller;

  let raw: string;
  try {
    raw = await request.text();
  } catch (cause) {
    return errorResponse(new AppError("BAD_REQUEST", "The request body could not be read.", { cause }));
  }
  const input = parseChatBody(raw);
  if (!input.ok) return errorResponse(new AppError("BAD_REQUEST", input.message));

  let deps: ChatDeps;
  try {
    deps = resolveDeps(overrides);
  } catch (cause) {
    return errorResponse(storeUnavailable(cause));
  }

  let entitlement: ChatEntitlement;
  try {
    entitlement = await deps.getEntitlement(userId);
  } catch (cause) {
    return errorResponse(cause);
  }
  if (!entitlement.active || entitlement.tokenBudget <= 0) {
    const message = entitlement.active
      ? "Your plan does not include chat tokens. Choose a plan with chat on the pricing page."
      : "Chat needs an active plan. Choose one on the pricing page.";
    return errorResponse(new AppError("PAYMENT_REQUIRED", message, { details: { pricingUrl: PRICING_URL } }));
  }

  const messages = await convertToModelMessages(toModelInput(input.turns));
  const promptTokens = countPromptTokens(messages);
  const upperBound = promptTokens + deps.maxOutputTokens;
  const requestId = deps.newRequestId();
  const { store } = deps;

  // The plan's period end, unless it has passed (a renewal still on its way during the grace period).
  const periodEndsAt = entitlement.periodEndsAt && entitlement.periodEndsAt.getTime() > Date.now() ? entitlement.periodEndsAt : null;

  let reservation: ReserveResult;
  try {
    reservation = await store.reserve(userId, requestId, upperBound);
    // A paying user without any budget key: let billing re-derive it from Stripe, then try once more.
    if (!reservation.ok && reservation.resetsAt === null && periodEndsAt) {
      await deps.restoreBudget(userId);
      reservation = await store.reserve(userId, requestId, upperBound);
    }
  } catch (cause) {
    return errorResponse(storeUnavailable(cause));
  }
  if (!reservation.ok) {
    return budgetExhausted(reservation.tokensRemaining, reservation.resetsAt ?? periodEndsAt);
  }

  const { granted } = reservation;
  const settlement = createSettlement(store, userId, requestId);
  const outputCap = Math.min(deps.maxOutputTokens, granted - promptTokens);
  if (outputCap < 1) {
    const settled = await settlement.settle(0);
    return budgetExhausted(
      settled?.result.tokensRemaining ?? reservation.tokensRemaining,
      periodEndsAt,
      `This conversation needs about ${promptTokens.toLocaleString("en-US")} tokens, more than your budget has left. ` +
        "Start a new chat with a shorter history, or wait for the budget to reset.",
    );
  }

  let streamedText = "";
  const result = streamText({
    model: deps.model,
    messages,
    maxOutputTokens: outputCap,
    abortSignal: request.signal,
    onChunk({ chunk }) {
      if (chunk.type === "text-delta") streamedText += chunk.text;
    },
    onFinish({ totalUsage }) {
      return settlement.settle(tokensFromUsage(totalUsage, promptTokens, granted)).then(() => undefined);
    },
    onAbort({ steps }) {
      // A stopped stream reports no usage for its unfinished step: charge what finished steps reported, plus the
      // prompt and the text streamed so far measured with our tokenizer.
      const finished = steps.reduce((sum, step) => sum + tokensFromUsage(step.usage, promptTokens, granted), 0);
      const unfinished = steps.length === 0 ? promptTokens + countTokens(streamedText) : 0;
      void settlement.settle(finished + unfinished);
    },
    onError({ error }) {
      console.error(`[chat] model stream failed for request ${requestId}`, error);
      // The provider may have spent tokens we never saw: charge the whole reservation.
      return settlement.settle(granted).then(() => undefined);
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
      if (!finishChunk) return;
      // Returns the settlement onFinish started; if no callback ran at all, charges the whole reservation.
      const settled = await settlement.settle(granted);
      controller.enqueue(
        settled
          ? { ...finishChunk, messageMetadata: { tokensUsed: settled.tokensUsed, tokensRemaining: settled.result.tokensRemaining } }
          : finishChunk,
      );
    },
  });

  return createUIMessageStreamResponse({
    stream: result.toUIMessageStream<ChatUIMessage>({ onError: () => "The model failed to answer. Please try again." }).pipeThrough(withBudgetMetadata),
    headers: { "X-Tokens-Reserved": String(granted) },
  });
}

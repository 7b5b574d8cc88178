"use client";
import { useChat } from "@ai-sdk/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { DefaultChatTransport, type UIMessage } from "ai";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { chatTokensExhausted } from "@/lib/budget-meter";
import { formatTokens } from "@/lib/format";
import { useTRPC } from "@/lib/trpc/react";
import type { AppRouter } from "@/server/api/root";
import { chatMessageMetadataSchema, type ChatMessageMetadata } from "@/lib/chat-wire";
import { readBudgetAlert, type OverageReading } from "@/lib/budget-alert";
import { BudgetAlertNotice } from "../_components/budget-alert";
import { BudgetMeter } from "../_components/budget-meter";
import { describeChatFailure, type ChatFailure } from "./chat-failure";
import {
  BudgetExhaustedPanel,
  ConversationTooLongNotice,
  BadRequestNotice,
  PaymentOverduePanel,
  PaymentRequiredPanel,
  SignedOutNotice,
  UnavailableNotice,
} from "./chat-notices";

type BillingStatus = inferRouterOutputs<AppRouter>["billing"]["status"];

/** The remaining count the server reported with an answer or a 429, and the billing.status data it supersedes. */
interface ReportedRemaining {
  tokensRemaining: number;
  billingUpdatedAt: number;
}

/**
 * A message as the page holds it. Answers streamed here carry the wire's metadata; answers reopened from a saved
 * chat carry what they were charged, but not the remaining count at the time (the meter reads the current one).
 */
export type ChatPageMessage = UIMessage<Omit<ChatMessageMetadata, "tokensRemaining"> & { tokensRemaining?: number }>;

/**
 * The period's overage: the cap from the account query (it may have changed since), the use as the newer of the query
 * and the latest answer's report (it only grows within a period); null when the plan has none, and during a trial
 * (overage starts with the first paid period).
 */
function overageReading(settings: { usedTokens: number; capTokens: number; inTrial: boolean } | null | undefined, last: ChatPageMessage["metadata"]): OverageReading | null {
  if (settings?.inTrial) return null;
  const reported = last?.overageUsed !== undefined && last.overageCapTokens !== undefined ? { usedTokens: last.overageUsed, capTokens: last.overageCapTokens } : null;
  if (!settings) return reported;
  return { usedTokens: Math.max(settings.usedTokens, reported?.usedTokens ?? 0), capTokens: settings.capTokens };
}

const overageLeft = (overage: OverageReading | null) => overage !== null && overage.usedTokens < overage.capTokens;

const textOf = (message: ChatPageMessage) =>
  message.parts.map((part) => (part.type === "text" ? part.text : "")).join("");

/** A model the user's plan includes, as the picker shows it. */
export interface ChatModelOption {
  id: string;
  name: string;
  description: string;
  /** The provider model that answers for it (the demo model offline). */
  answeredBy: string;
}

export function ChatView({
  chatId,
  initialMessages,
  initialInput,
  initialModel,
  models,
  initialBilling,
  toolbar,
  onSend,
  onAnswered,
  onNewChat,
}: {
  /** The id the chat route saves this conversation under (a new one, or a saved chat's to continue it). */
  chatId: string;
  initialMessages: ChatPageMessage[];
  initialInput: string;
  /** The model to preselect (a reopened chat's last); the plan's default otherwise. */
  initialModel?: string;
  models: ChatModelOption[];
  initialBilling: BillingStatus | undefined;
  /** Controls shown in the header beside the model picker (the saved chats on a small screen, New chat). */
  toolbar?: ReactNode;
  /** Called as a question is sent, before the answer. */
  onSend: (chatId: string, text: string) => void;
  /**
   * Called when an answer ended (finished, stopped or failed): the saved chat changed. `chatSaved`: the chat exists on
   * the server (an answer was ever saved in it); false after a refused first question, which saved nothing.
   */
  onAnswered: (chatId: string, chatSaved: boolean) => void;
  /** Starts a new chat, with `draft` in its message box. */
  onNewChat: (draft?: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const billingQuery = useQuery({ ...trpc.billing.status.queryOptions(), initialData: initialBilling });
  // Metered overage (BILLING_OVERAGE=1): null when the plan has none; chat continues past the budget up to the cap.
  const overageQuery = useQuery(trpc.account.overage.queryOptions());
  const [reported, setReported] = useState<ReportedRemaining | null>(null);
  const [input, setInput] = useState(initialInput);
  const [modelId, setModelId] = useState(initialModel ?? models[0]?.id ?? "");
  const model = models.find((option) => option.id === modelId) ?? models[0];
  // Which 429 the current error is: a shorter history helps only if there is history to drop.
  const [overBudget, setOverBudget] = useState<{ error: Error; fixedByNewChat: boolean } | null>(null);
  const [transport] = useState(() => new DefaultChatTransport<ChatPageMessage>({ api: "/api/chat" }));
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const logRef = useRef<HTMLDivElement>(null);

  const refreshBilling = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.billing.status.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.account.overage.queryKey() });
  };
  // Whether the server has saved this chat: a reopened one has, a new one once an answer of it finished. A ref, not
  // the messages, because the callbacks below may hold an older render's messages.
  const chatSaved = useRef(initialMessages.some((message) => message.role === "assistant"));

  // The transport sends `id` with every request: the chat route saves each turn of this chat under it.
  const { messages, sendMessage, regenerate, stop, status, error, setMessages } = useChat<ChatPageMessage>({
    id: chatId,
    messages: initialMessages,
    transport,
    messageMetadataSchema: chatMessageMetadataSchema,
    onFinish({ message, isError }) {
      const metadata = chatMessageMetadataSchema.safeParse(message.metadata);
      if (metadata.success) setReported({ tokensRemaining: metadata.data.tokensRemaining, billingUpdatedAt: billingQuery.dataUpdatedAt });
      // Also after a stopped or failed answer: the server charged what it streamed (and saved the turn).
      refreshBilling();
      // A request refused before answering (429, 402, 503...) streamed nothing: no assistant message, nothing saved.
      if (!isError || (message.role === "assistant" && message.parts.length > 0)) chatSaved.current = true;
      onAnswered(chatId, chatSaved.current);
    },
    onError(failed) {
      const failure = describeChatFailure(failed);
      const fixedByNewChat = failure.kind === "over-budget" && failure.tokensRemaining > 0 && messages.length > 1;
      if (failure.kind === "over-budget") {
        setReported({ tokensRemaining: failure.tokensRemaining, billingUpdatedAt: billingQuery.dataUpdatedAt });
        setOverBudget({ error: failed, fixedByNewChat });
      }
      if (failure.kind === "bad-request" || fixedByNewChat) {
        // The refused message would be sent again with every later one: take it back into the input, to fix or to
        // send again in a new chat.
        let refused: ChatPageMessage | undefined;
        setMessages((current) => {
          refused = current.at(-1)?.role === "user" ? current.at(-1) : undefined;
          return refused ? current.slice(0, -1) : current;
        });
        if (refused) setInput(textOf(refused));
      }
      if (failure.kind === "payment-required" || failure.kind === "payment-overdue" || failure.kind === "over-budget") refreshBilling();
      onAnswered(chatId, chatSaved.current);
    },
  });

  const busy = status === "submitted" || status === "streaming";
  const failure: ChatFailure | null = error ? describeChatFailure(error) : null;
  const conversationTooLong = failure?.kind === "over-budget" && overBudget !== null && overBudget.error === error && overBudget.fixedByNewChat;

  const billing = billingQuery.data;
  const budget = billing?.budget ?? null;
  // The count the server sent with the latest answer wins until the refetch it triggered brings newer billing data.
  const tokensRemaining =
    budget && reported && reported.billingUpdatedAt === billingQuery.dataUpdatedAt
      ? reported.tokensRemaining
      : (budget?.tokensRemaining ?? null);

  const lastUsage = messages.findLast((message) => message.role === "assistant" && message.metadata)?.metadata;
  const overage = overageReading(overageQuery.data, lastUsage);
  // Decided before any request from the plan, and after one from the server's refusal.
  const overdue = failure?.kind === "payment-overdue" ? failure : billing?.paymentDue?.stopped ? billing.paymentDue : null;
  const block: "payment-required" | "payment-overdue" | "budget-exhausted" | null =
    failure?.kind === "payment-required" || (billing && (!billing.active || !budget || budget.tokenBudget <= 0))
      ? "payment-required"
      : overdue
        ? "payment-overdue"
      : (failure?.kind === "over-budget" && !conversationTooLong) || (chatTokensExhausted(tokensRemaining, billing?.packTokens) && !overageLeft(overage))
        ? "budget-exhausted"
        : null;
  const resetsAt = failure?.kind === "over-budget" && failure.resetsAt ? failure.resetsAt : (budget?.resetsAt ?? null);

  // Between Send and the first word: the request is on its way, or the answer has started without any text yet.
  const lastMessage = messages.at(-1);
  const waiting = status === "submitted" || (status === "streaming" && lastMessage?.role === "assistant" && textOf(lastMessage) === "");

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [messages, status]);

  // The textarea is disabled while an answer streams, which drops focus: give it back for the next question.
  useEffect(() => {
    if (!busy && !block) inputRef.current?.focus();
  }, [busy, block]);

  function send() {
    const text = input.trim();
    if (!text || busy || block) return;
    setInput("");
    onSend(chatId, text);
    void sendMessage({ text }, { body: { model: modelId } });
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter is a newline; never send in the middle of an IME composition.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function newChat() {
    if (busy) void stop();
    // What is in the message box (a refused question put back) goes along to the new chat.
    onNewChat(input);
  }

  return (
    // As tall as the screen gives it (see chat-screen): the conversation takes what is left and scrolls.
    <div className="flex h-full min-h-0 w-full flex-col gap-4" data-testid="chat-page">
      <header className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-bold tracking-tight">Chat</h1>
          <p className="mt-1 text-xs text-stone-500" data-testid="chat-model">Answers by {model?.answeredBy}</p>
        </div>
        {models.length > 1 ? (
          <div className="flex flex-col gap-1">
            <label htmlFor="chat-model-select" className="text-xs font-medium text-stone-600">Model</label>
            <select
              id="chat-model-select"
              value={modelId}
              onChange={(event) => setModelId(event.target.value)}
              aria-describedby="chat-model-description"
              className="rounded-lg border border-stone-300 bg-white px-3 py-2 text-sm text-stone-900 focus:border-brand-600 focus:outline-none focus:ring-2 focus:ring-brand-500/40"
              data-testid="chat-model-select"
            >
              {models.map((option) => (
                <option key={option.id} value={option.id}>{option.name}</option>
              ))}
            </select>
            <p id="chat-model-description" className="max-w-56 text-xs text-stone-500">{model?.description}</p>
          </div>
        ) : null}
        {toolbar}
      </header>

      {budget && tokensRemaining !== null ? (
        <section className="card py-4" aria-label="Token budget">
          <BudgetMeter tokenBudget={budget.tokenBudget} tokensRemaining={tokensRemaining} resetsAt={budget.resetsAt} packTokens={billing?.packTokens} />
          <BudgetAlertNotice alert={readBudgetAlert(tokensRemaining, budget.tokenBudget, overage, { refused: failure?.kind === "over-budget" && !conversationTooLong, packTokens: billing?.packTokens ?? 0 })} />
          {lastUsage ? (
            <p className="mt-2 text-xs text-stone-600">
              <span data-testid="last-usage">Last answer used {formatTokens(lastUsage.tokensUsed)} tokens (prompt + answer)</span>
              <span className="hidden sm:inline">. Each question sends the conversation so far as its prompt, so answers cost more as a chat grows.</span>{" "}
              <a href="/usage" className="font-medium underline hover:text-stone-900">Usage history</a>
            </p>
          ) : null}
        </section>
      ) : null}
      {(billingQuery.isError && !billing) || (budget && budget.tokensRemaining === null) ? (
        <p role="status" className="text-sm text-stone-600">
          Your token budget can&apos;t be shown right now.{" "}
          <button type="button" className="font-medium underline" onClick={() => void billingQuery.refetch()}>Check again</button>
        </p>
      ) : null}

      {messages.length > 0 || !block ? (
        <section className="card flex min-h-0 flex-1 flex-col p-0">
          <div
            ref={logRef}
            role="log"
            // It scrolls: keyboard users need to reach it to scroll it.
            tabIndex={0}
            aria-live="polite"
            aria-busy={busy}
            aria-label="Conversation"
            data-testid="chat-log"
            // `relative` keeps the bubbles' screen-reader labels (absolute) inside the scrolling box: without it they sit
            // at their place in the conversation, below the window, and make the page itself scroll.
            className="relative flex min-h-0 flex-1 flex-col gap-3 overflow-y-auto p-4 sm:p-6"
          >
            {messages.length === 0 ? (
              <p className="m-auto max-w-sm text-center text-sm text-stone-500">
                Ask anything. Each answer is charged to your token budget by the tokens it really used.
              </p>
            ) : (
              messages
                // The answer's bubble appears with its first word; until then the waiting line stands in for it.
                .filter((message) => !(waiting && message === lastMessage && message.role === "assistant"))
                .map((message) => <MessageBubble key={message.id} message={message} />)
            )}
            {waiting ? (
              <p role="status" className="self-start rounded-2xl rounded-bl-sm bg-stone-100 px-4 py-2 text-sm text-stone-600" data-testid="chat-waiting">
                <span className="animate-pulse">Writing an answer…</span>
              </p>
            ) : null}
          </div>
        </section>
      ) : null}

      {block === "payment-required" ? (
        <PaymentRequiredPanel pricingUrl={failure?.kind === "payment-required" ? failure.pricingUrl : "/pricing"} />
      ) : block === "payment-overdue" ? (
        <PaymentOverduePanel invoiceUrl={overdue?.invoiceUrl ?? null} />
      ) : block === "budget-exhausted" ? (
        <BudgetExhaustedPanel resetsAt={resetsAt} packOffer={billing?.packOffer} />
      ) : (
        <>
          {failure?.kind === "unavailable" || failure?.kind === "unknown" ? (
            <UnavailableNotice kind={failure.kind} onRetry={() => void regenerate()} />
          ) : failure?.kind === "bad-request" ? (
            <BadRequestNotice message={failure.message} onNewChat={messages.length > 0 ? newChat : undefined} />
          ) : failure?.kind === "over-budget" ? (
            <ConversationTooLongNotice message={failure.message} onNewChat={newChat} />
          ) : failure?.kind === "unauthorized" ? (
            <SignedOutNotice />
          ) : null}
          <form onSubmit={onSubmit} className="card shrink-0 p-3 sm:p-4">
            <label htmlFor="chat-input" className="sr-only">Message</label>
            <textarea
              id="chat-input"
              ref={inputRef}
              value={input}
              onChange={(event) => setInput(event.target.value)}
              onKeyDown={onKeyDown}
              disabled={busy}
              rows={2}
              autoFocus
              placeholder="Ask something…"
              aria-describedby="chat-input-hint"
              className="block w-full resize-y rounded-lg border border-stone-300 bg-white px-3 py-2 text-stone-900 placeholder:text-stone-400 focus:border-brand-600 focus:outline-none focus:ring-2 focus:ring-brand-500/40 disabled:bg-stone-50 disabled:text-stone-500"
            />
            <div className="mt-2 flex items-center justify-between gap-3">
              <p id="chat-input-hint" className="text-xs text-stone-500">
                <kbd className="font-sans font-semibold">Enter</kbd> to send, <kbd className="font-sans font-semibold">Shift</kbd>+
                <kbd className="font-sans font-semibold">Enter</kbd> for a new line
              </p>
              {busy ? (
                <button type="button" className="btn-secondary" onClick={() => void stop()}>Stop</button>
              ) : (
                <button type="submit" className="btn-primary" disabled={input.trim() === ""}>Send</button>
              )}
            </div>
          </form>
        </>
      )}
    </div>
  );
}

function MessageBubble({ message }: { message: ChatPageMessage }) {
  const fromUser = message.role === "user";
  return (
    <div className={`flex flex-col ${fromUser ? "items-end" : "items-start"}`} data-testid={`message-${message.role}`}>
      <span className="sr-only">{fromUser ? "You:" : "Assistant:"}</span>
      <div
        className={`max-w-[85%] whitespace-pre-wrap break-words rounded-2xl px-4 py-2 text-sm leading-relaxed ${
          fromUser ? "rounded-br-sm bg-stone-900 text-white" : "rounded-bl-sm bg-stone-100 text-stone-900"
        }`}
      >
        {textOf(message)}
      </div>
      {message.metadata ? (
        <span className="mt-1 text-[11px] text-stone-600">{formatTokens(message.metadata.tokensUsed)} tokens (prompt + answer)</span>
      ) : null}
    </div>
  );
}

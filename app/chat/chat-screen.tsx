"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { generateId } from "ai";
import { useSearchParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useTRPC } from "@/lib/trpc/react";
import type { AppRouter } from "@/server/api/root";
import { SAVED_CHAT_ID } from "./chat-id";
import { ChatList, type ChatSummary } from "./chat-list";
import { ChatView, type ChatModelOption, type ChatPageMessage } from "./chat-view";
import { MissingChatNotice } from "./chat-notices";

type RouterOutputs = inferRouterOutputs<AppRouter>;
type BillingStatus = RouterOutputs["billing"]["status"];
type SavedChat = RouterOutputs["chats"]["get"];

/** A saved chat's messages as the chat shows them; each answer keeps what it was charged. */
function toPageMessages(messages: SavedChat["messages"]): ChatPageMessage[] {
  return messages.map((message) => ({
    id: message.id,
    role: message.role,
    parts: [{ type: "text", text: message.text, state: "done" }],
    metadata: message.role === "assistant" && message.charge !== null ? { tokensUsed: message.charge, model: message.model ?? undefined } : undefined,
  }));
}

/**
 * /chat: the saved chats (a sidebar from 1024 px, a drawer below) beside the open conversation. The URL names the
 * open chat (/chat?c=<id>) once its first question is sent, so a reload, a bookmark or Back reopens it; /chat alone
 * is a new chat. The chat id is the one the chat route saves every turn under, so a reopened chat continues there.
 */
export function ChatScreen({
  models,
  initialBilling,
  initialChats,
  initialChat,
  missingChatId,
}: {
  models: ChatModelOption[];
  initialBilling: BillingStatus | undefined;
  initialChats: ChatSummary[] | undefined;
  initialChat: SavedChat | null;
  missingChatId: string | null;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const urlChatId = useSearchParams().get("c");
  // The server read the chat the URL named: start from it instead of asking again.
  useState(() => {
    if (initialChat) queryClient.setQueryData(trpc.chats.get.queryKey({ id: initialChat.id }), initialChat);
  });
  const chatsQuery = useQuery({ ...trpc.chats.list.queryOptions(), initialData: initialChats });

  // The new chat /chat shows: its id is chosen here and becomes the URL's with its first question.
  const [fresh, setFresh] = useState(() => ({ id: generateId(), draft: "" }));
  // A new chat whose first question was refused: nothing was saved, so the URL went back to /chat (a reload must not
  // look for a chat that does not exist); the conversation on screen stays, with the refusal's notice.
  const [unsavedFreshId, setUnsavedFreshId] = useState<string | null>(null);
  // Leaving a new chat that was started (its id in the URL) for another one: the next new chat gets a new id.
  const [previousUrlChatId, setPreviousUrlChatId] = useState(urlChatId);
  if (previousUrlChatId !== urlChatId) {
    setPreviousUrlChatId(urlChatId);
    if (previousUrlChatId === fresh.id && unsavedFreshId !== fresh.id) setFresh({ id: generateId(), draft: "" });
  }

  const savedId = urlChatId !== null && urlChatId !== fresh.id ? urlChatId : null;
  const knownMissing = savedId !== null && (savedId === missingChatId || !SAVED_CHAT_ID.test(savedId));
  const savedQuery = useQuery({
    ...trpc.chats.get.queryOptions({ id: savedId ?? "" }),
    enabled: savedId !== null && !knownMissing,
    // The open conversation lives in the chat itself from here on; the query is only how it opens.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  // A chat once left is read again when reopened: its conversation may have grown since.
  useEffect(() => {
    if (savedId === null) return;
    return () => queryClient.removeQueries({ queryKey: trpc.chats.get.queryKey({ id: savedId }) });
  }, [savedId, queryClient, trpc]);

  const drawer = useRef<HTMLDialogElement>(null);
  const closeDrawer = () => drawer.current?.close();

  const refreshList = () => void queryClient.invalidateQueries({ queryKey: trpc.chats.list.queryKey() });

  function openChat(id: string) {
    closeDrawer();
    if (id !== urlChatId) window.history.pushState(null, "", `/chat?c=${encodeURIComponent(id)}`);
  }

  function newChat(draft = "") {
    closeDrawer();
    setFresh({ id: generateId(), draft });
    if (urlChatId !== null) window.history.pushState(null, "", "/chat");
  }

  function onDeleted(id: string) {
    queryClient.removeQueries({ queryKey: trpc.chats.get.queryKey({ id }) });
    if (id === urlChatId) newChat();
  }

  function onAnswered(chatId: string, chatSaved: boolean) {
    refreshList();
    if (chatId !== fresh.id) return;
    const url = chatSaved ? `/chat?c=${encodeURIComponent(chatId)}` : "/chat";
    setUnsavedFreshId(chatSaved ? null : chatId);
    if (window.location.pathname + window.location.search !== url) window.history.replaceState(null, "", url);
  }

  // The new chat's first question saves it under its id: from now on the URL names it, and the list shows it at
  // once, titled by the question, until the server's list (refreshed when the answer ends) replaces it. A refused
  // question is not saved: that refresh takes the row away again.
  function onSend(chatId: string, text: string) {
    if (chatId !== fresh.id || urlChatId === chatId) return;
    window.history.replaceState(null, "", `/chat?c=${encodeURIComponent(chatId)}`);
    const now = new Date();
    queryClient.setQueryData(trpc.chats.list.queryKey(), (chats) =>
      chats && !chats.some((chat) => chat.id === chatId)
        ? [{ id: chatId, title: text.replace(/\s+/g, " ").trim(), createdAt: now, updatedAt: now }, ...chats]
        : chats,
    );
  }

  const toolbar = (
    <div className="flex gap-2 lg:hidden">
      <button
        type="button"
        className="btn-secondary"
        aria-haspopup="dialog"
        aria-controls="saved-chats-drawer"
        onClick={() => drawer.current?.showModal()}
        data-testid="open-chats"
      >
        Chats
      </button>
      <button type="button" className="btn-secondary" onClick={() => newChat()}>New chat</button>
    </div>
  );

  const list = (idPrefix: string) => (
    <ChatList
      idPrefix={idPrefix}
      chats={chatsQuery.data}
      failed={chatsQuery.isError && !chatsQuery.data}
      onRetry={() => void chatsQuery.refetch()}
      openId={urlChatId}
      onOpen={openChat}
      onNew={() => newChat()}
      onChanged={refreshList}
      onDeleted={onDeleted}
    />
  );

  let view;
  if (savedId === null) {
    view = (
      <ChatView
        key={fresh.id}
        chatId={fresh.id}
        initialMessages={[]}
        initialInput={fresh.draft}
        models={models}
        initialBilling={initialBilling}
        toolbar={toolbar}
        onSend={onSend}
        onAnswered={onAnswered}
        onNewChat={newChat}
      />
    );
  } else if (savedQuery.data && savedQuery.data.id === savedId) {
    const lastModel = savedQuery.data.messages.findLast((message) => message.role === "assistant" && message.model)?.model;
    view = (
      <ChatView
        key={savedId}
        chatId={savedId}
        initialMessages={toPageMessages(savedQuery.data.messages)}
        initialInput=""
        initialModel={models.some((model) => model.id === lastModel) ? (lastModel ?? undefined) : undefined}
        models={models}
        initialBilling={initialBilling}
        toolbar={toolbar}
        onSend={onSend}
        onAnswered={onAnswered}
        onNewChat={newChat}
      />
    );
  } else {
    const missing = knownMissing || savedQuery.error?.data?.code === "NOT_FOUND";
    view = (
      <div className="flex h-full min-h-0 flex-col gap-4">
        <header className="flex flex-wrap items-end justify-between gap-3">
          <h1 className="text-2xl font-bold tracking-tight">Chat</h1>
          {toolbar}
        </header>
        {missing ? (
          <MissingChatNotice onNewChat={() => newChat()} />
        ) : savedQuery.isError ? (
          <MissingChatNotice unavailable onNewChat={() => newChat()} onRetry={() => void savedQuery.refetch()} />
        ) : (
          <p role="status" className="card text-sm text-stone-600">Opening the chat…</p>
        )}
      </div>
    );
  }

  return (
    // As tall as the window below the site header and main's padding (together under 10rem): the conversation
    // takes what is left and scrolls, so the composer never falls below the fold however long the chat.
    <div className="grid h-[calc(100dvh-10rem)] min-h-[30rem] grid-rows-[minmax(0,1fr)] gap-6 lg:grid-cols-[15rem_minmax(0,1fr)]">
      <nav aria-label="Saved chats" className="card hidden min-h-0 flex-col p-3 lg:flex" data-testid="chat-sidebar">
        {list("sidebar")}
      </nav>
      <dialog
        ref={drawer}
        id="saved-chats-drawer"
        aria-labelledby="saved-chats-drawer-heading"
        // A panel from the left edge, the height of the window; Escape and the backdrop close it (native dialog).
        className="fixed inset-y-0 left-0 m-0 h-dvh max-h-none w-80 max-w-[85vw] border-r border-stone-200 bg-white p-0 shadow-xl backdrop:bg-stone-900/40"
        onClick={(event) => {
          if (event.target === event.currentTarget) closeDrawer();
        }}
        data-testid="chat-drawer"
      >
        <div className="flex h-full flex-col p-3">
          <div className="mb-2 flex items-center justify-between gap-2">
            <h2 id="saved-chats-drawer-heading" className="px-2 text-sm font-semibold text-stone-700">Saved chats</h2>
            <button type="button" className="btn-secondary px-3 py-1.5" onClick={closeDrawer}>Close</button>
          </div>
          {list("drawer")}
        </div>
      </dialog>
      <div className="flex min-h-0 min-w-0 flex-col">{view}</div>
    </div>
  );
}

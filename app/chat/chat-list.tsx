"use client";
import { useMutation } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useRef, useState, type FormEvent, type KeyboardEvent, type MouseEvent, type RefObject } from "react";
import { useTRPC } from "@/lib/trpc/react";
import type { AppRouter } from "@/server/api/root";

export type ChatSummary = inferRouterOutputs<AppRouter>["chats"]["list"][number];

/** The chats router's limit on a title (after collapsing whitespace), checked here first so the error is instant. */
const MAX_TITLE_CHARS = 100;

function titleProblem(title: string): string | null {
  const clean = title.replace(/\s+/g, " ").trim();
  if (clean === "") return "A title cannot be empty.";
  if (clean.length > MAX_TITLE_CHARS) return `A title has at most ${MAX_TITLE_CHARS} characters (this one has ${clean.length}).`;
  return null;
}

const errorMessage = (error: unknown, fallback: string) => (error instanceof Error && error.message ? error.message : fallback);

/**
 * The saved chats, most recently active first, with "New chat" on top. Each row opens its chat (a real link, so it
 * also opens in a new tab), and can be renamed in place (Enter saves, Escape cancels) or deleted after a confirmation.
 */
export function ChatList({
  idPrefix,
  chats,
  failed,
  onRetry,
  openId,
  onOpen,
  onNew,
  onChanged,
  onDeleted,
}: {
  /** Keeps element ids unique when the list is shown twice (sidebar and drawer). */
  idPrefix: string;
  chats: ChatSummary[] | undefined;
  failed: boolean;
  onRetry: () => void;
  openId: string | null;
  onOpen: (id: string) => void;
  onNew: () => void;
  onChanged: () => void;
  onDeleted: (id: string) => void;
}) {
  const newButton = useRef<HTMLButtonElement>(null);
  return (
    <div className="flex min-h-0 flex-1 flex-col gap-3">
      <button ref={newButton} type="button" className="btn-primary w-full" onClick={onNew}>
        New chat
      </button>
      <h2 className="px-2 text-xs font-semibold uppercase tracking-wide text-stone-500" id={`${idPrefix}-chats-heading`}>
        Your chats
      </h2>
      {chats === undefined ? (
        failed ? (
          <p role="alert" className="px-2 text-sm text-stone-600">
            Your chats can&apos;t be shown right now.{" "}
            <button type="button" className="font-medium underline" onClick={onRetry}>Try again</button>
          </p>
        ) : (
          <p role="status" className="px-2 text-sm text-stone-500">Loading your chats…</p>
        )
      ) : chats.length === 0 ? (
        <p className="px-2 text-sm text-stone-500">No saved chats yet. Your conversations appear here.</p>
      ) : (
        // Padding inside the scrolling box so the rows' focus outlines are not clipped by it.
        <ul aria-labelledby={`${idPrefix}-chats-heading`} className="-mx-1 min-h-0 flex-1 space-y-1 overflow-y-auto px-1 py-1" data-testid="chat-list">
          {chats.map((chat) => (
            <ChatRow
              key={chat.id}
              idPrefix={idPrefix}
              chat={chat}
              open={chat.id === openId}
              onOpen={onOpen}
              onChanged={onChanged}
              onDeleted={(id) => {
                onDeleted(id);
                onChanged();
                newButton.current?.focus();
              }}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function ChatRow({
  idPrefix,
  chat,
  open,
  onOpen,
  onChanged,
  onDeleted,
}: {
  idPrefix: string;
  chat: ChatSummary;
  open: boolean;
  onOpen: (id: string) => void;
  onChanged: () => void;
  onDeleted: (id: string) => void;
}) {
  const trpc = useTRPC();
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [title, setTitle] = useState(chat.title);
  const [problem, setProblem] = useState<string | null>(null);
  const renameButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const rename = useMutation(trpc.chats.rename.mutationOptions());
  const remove = useMutation(trpc.chats.delete.mutationOptions());
  const fieldId = `${idPrefix}-title-${chat.id}`;
  const errorId = `${fieldId}-error`;

  // Focus goes back to the button that opened the form once the row shows the title again.
  const backTo = (button: RefObject<HTMLButtonElement | null>) => {
    setMode("view");
    setProblem(null);
    requestAnimationFrame(() => button.current?.focus());
  };

  function startRename() {
    setTitle(chat.title);
    setProblem(null);
    rename.reset();
    setMode("rename");
  }

  function saveTitle(event: FormEvent) {
    event.preventDefault();
    const found = titleProblem(title);
    if (found) {
      setProblem(found);
      return;
    }
    rename.mutate(
      { id: chat.id, title },
      {
        onSuccess: () => {
          onChanged();
          backTo(renameButton);
        },
        onError: (error) => setProblem(errorMessage(error, "The chat could not be renamed. Please try again.")),
      },
    );
  }

  function onTitleKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Escape") {
      // Only the form closes: the drawer around it (a native dialog) stays open.
      event.preventDefault();
      event.stopPropagation();
      backTo(renameButton);
    }
  }

  function confirmDelete() {
    remove.mutate(
      { id: chat.id },
      {
        onSuccess: () => onDeleted(chat.id),
        onError: (error) => setProblem(errorMessage(error, "The chat could not be deleted. Please try again.")),
      },
    );
  }

  function follow(event: MouseEvent<HTMLAnchorElement>) {
    // A plain click opens the chat here; with a modifier the browser opens the link as it would any other.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    onOpen(chat.id);
  }

  if (mode === "rename") {
    return (
      <li className="rounded-lg bg-stone-50 p-2" data-testid="chat-item">
        <form onSubmit={saveTitle} noValidate>
          <label htmlFor={fieldId} className="text-xs font-medium text-stone-700">Chat title</label>
          <input
            id={fieldId}
            value={title}
            onChange={(event) => {
              setTitle(event.target.value);
              setProblem(null);
            }}
            onKeyDown={onTitleKeyDown}
            autoFocus
            aria-invalid={problem ? true : undefined}
            aria-describedby={`${fieldId}-hint${problem ? ` ${errorId}` : ""}`}
            className="field-input mt-1 py-1.5 text-sm"
          />
          <p id={`${fieldId}-hint`} className="mt-1 text-xs text-stone-500">Enter saves, Escape cancels.</p>
          {problem ? (
            <p id={errorId} role="alert" className="field-error text-xs" data-testid="rename-error">{problem}</p>
          ) : null}
          <div className="mt-2 flex gap-2">
            <button type="submit" className="btn-primary px-3 py-1.5" disabled={rename.isPending}>
              {rename.isPending ? "Saving…" : "Save"}
            </button>
            <button type="button" className="btn-secondary px-3 py-1.5" onClick={() => backTo(renameButton)}>Cancel</button>
          </div>
        </form>
      </li>
    );
  }

  if (mode === "confirm-delete") {
    return (
      <li className="rounded-lg border border-red-200 bg-red-50 p-2" data-testid="chat-item">
        <div role="group" aria-labelledby={`${fieldId}-delete-question`}>
          <p id={`${fieldId}-delete-question`} className="text-sm text-stone-800 wrap-anywhere">
            Delete “{chat.title}” and its messages? This cannot be undone.
          </p>
          {problem ? <p role="alert" className="field-error text-xs">{problem}</p> : null}
          <div className="mt-2 flex gap-2">
            <button type="button" className="btn-danger px-3 py-1.5" onClick={confirmDelete} disabled={remove.isPending}>
              {remove.isPending ? "Deleting…" : "Delete"}
            </button>
            <button
              type="button"
              className="btn-secondary px-3 py-1.5"
              autoFocus
              onClick={() => backTo(deleteButton)}
              onKeyDown={(event) => {
                if (event.key === "Escape") {
                  event.preventDefault();
                  event.stopPropagation();
                  backTo(deleteButton);
                }
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      </li>
    );
  }

  return (
    <li
      className={`group flex items-center gap-1 rounded-lg ${open ? "bg-stone-100" : "hover:bg-stone-50"}`}
      data-testid="chat-item"
    >
      <a
        href={`/chat?c=${encodeURIComponent(chat.id)}`}
        onClick={follow}
        aria-current={open ? "page" : undefined}
        title={chat.title}
        className="min-w-0 flex-1 truncate rounded-lg px-2 py-2 text-sm text-stone-700 aria-[current=page]:font-semibold aria-[current=page]:text-stone-900"
        data-testid="chat-link"
      >
        {chat.title}
      </a>
      <button
        ref={renameButton}
        type="button"
        onClick={startRename}
        aria-label={`Rename chat: ${chat.title}`}
        title="Rename"
        className="shrink-0 rounded-md p-1.5 text-stone-500 hover:bg-stone-200 hover:text-stone-900"
      >
        <PencilIcon />
      </button>
      <button
        ref={deleteButton}
        type="button"
        onClick={() => {
          setProblem(null);
          setMode("confirm-delete");
        }}
        aria-label={`Delete chat: ${chat.title}`}
        title="Delete"
        className="shrink-0 rounded-md p-1.5 text-stone-500 hover:bg-red-50 hover:text-red-700"
      >
        <TrashIcon />
      </button>
    </li>
  );
}

function PencilIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" className="size-4">
      <path d="M13.5 3.5l3 3L7 16H4v-3l9.5-9.5z" strokeLinejoin="round" />
    </svg>
  );
}

function TrashIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" className="size-4">
      <path d="M4 6h12M8 6V4h4v2M6 6l1 10h6l1-10" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}

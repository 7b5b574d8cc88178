// Saved conversations: the chat records each user turn once its budget is reserved, and each answer (with its
// model, tokens and charge) once it is settled. Saving never blocks or fails an answer the user already paid for:
// a failed write is logged and the answer still streams.
import { getDb } from "@/db/index";
import { saveAnswer, saveUserTurn, setAnswerCharge, type AnswerRecord } from "@/db/queries/chats";

export const MAX_TITLE_CHARS = 60;

export interface ChatHistory {
  /**
   * The user's turn, and with `answer` its answer after it (one write for a chat known to be the user's); "foreign"
   * when the chat id belongs to another user (nothing written).
   */
  saveUserTurn(userId: string, chatId: string, turn: { text: string; at: Date }, answer?: AnswerRecord & { id: string; at: Date }): Promise<"saved" | "repeated" | "foreign">;
  /**
   * True when this process has already seen the user write to this chat, so a further turn need not wait for the
   * database to say whose it is. Only a shortcut: every write checks the owner itself.
   */
  isKnownChat(userId: string, chatId: string): boolean;
  /** false when the chat is gone or not the user's (nothing written). */
  saveAnswer(userId: string, chatId: string, answer: AnswerRecord & { id: string; at: Date }): Promise<boolean>;
  /** Corrects a saved answer's charge (the budget charged other than what was saved with it). */
  setAnswerCharge(userId: string, messageId: string, charge: number): Promise<void>;
}

/**
 * A chat's title from its first message: one line without control characters (as a rename requires), cut at a word
 * boundary, no extra model call.
 */
export function titleFrom(text: string): string {
  const line = text.replace(/[\s\p{Cc}]+/gu, " ").trim();
  if (line.length <= MAX_TITLE_CHARS) return line || "New chat";
  const cut = line.slice(0, MAX_TITLE_CHARS - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > MAX_TITLE_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * Chat id -> its owner, for the chats whose turns this process saved, the most recent KNOWN_CHATS_LIMIT of them. A
 * chat's owner never changes; the one way an entry goes stale is a chat deleted and its id then taken by another
 * user (ids are random UUIDs): that user's chat still gets no write from the first (the queries check the owner), the
 * first user just gets their answer without it being saved instead of a 404.
 */
const KNOWN_CHATS_LIMIT = 10_000;

export function createDatabaseChatHistory(): ChatHistory {
  const knownChats = new Map<string, string>();
  const remember = (chatId: string, userId: string) => {
    knownChats.delete(chatId);
    knownChats.set(chatId, userId);
    if (knownChats.size > KNOWN_CHATS_LIMIT) knownChats.delete(knownChats.keys().next().value as string);
  };
  return {
    async saveUserTurn(userId, chatId, turn, answer) {
      const saved = await saveUserTurn(await getDb(), { userId, chatId, title: titleFrom(turn.text), ...turn }, answer);
      if (saved === "foreign") {
        if (knownChats.get(chatId) === userId) knownChats.delete(chatId);
      } else {
        remember(chatId, userId);
      }
      return saved;
    },
    isKnownChat(userId, chatId) {
      return knownChats.get(chatId) === userId;
    },
    async saveAnswer(userId, chatId, answer) {
      return saveAnswer(await getDb(), { ...answer, userId, chatId });
    },
    async setAnswerCharge(userId, messageId, charge) {
      await setAnswerCharge(await getDb(), { id: messageId, userId, charge });
    },
  };
}

export const databaseChatHistory = createDatabaseChatHistory();

// Saved conversations: the chat records each user turn once its budget is reserved, and each answer (with its
// model, tokens and charge) once it is settled. Saving never blocks or fails an answer the user already paid for:
// a failed write is logged and the answer still streams.
import { getDb } from "@/db/index";
import { saveAnswer, saveUserTurn, type AnswerRecord } from "@/db/queries/chats";

export const MAX_TITLE_CHARS = 60;

export interface ChatHistory {
  /** "foreign" when the chat id belongs to another user (nothing written). */
  saveUserTurn(userId: string, chatId: string, text: string): Promise<"saved" | "repeated" | "foreign">;
  saveAnswer(userId: string, chatId: string, answer: AnswerRecord): Promise<void>;
}

/** A chat's title from its first message: one line, cut at a word boundary, no extra model call. */
export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (line.length <= MAX_TITLE_CHARS) return line || "New chat";
  const cut = line.slice(0, MAX_TITLE_CHARS - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > MAX_TITLE_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export const databaseChatHistory: ChatHistory = {
  async saveUserTurn(userId, chatId, text) {
    return saveUserTurn(await getDb(), { userId, chatId, title: titleFrom(text), text, at: new Date() });
  },
  async saveAnswer(userId, chatId, answer) {
    await saveAnswer(await getDb(), { ...answer, userId, chatId, at: new Date() });
  },
};

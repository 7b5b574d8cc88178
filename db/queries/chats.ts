// Saved chats and their messages. Every query is scoped by the owner's user id: a chat id alone never reads or
// changes anything, so one user cannot see or touch another's conversation by guessing an id.
import { and, asc, desc, eq, gte, lt, sql } from "drizzle-orm";
import { executePrepared, type Db, type Executor } from "../client";
import { chatMessages, chats, type ChatMessageRow, type ChatRow } from "../schema";

export type ChatSummary = Pick<ChatRow, "id" | "title" | "createdAt" | "updatedAt">;

export interface AnswerRecord {
  text: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  charge: number;
}

/**
 * Records the user's turn: creates the chat (titled `title`) on its first message, and adds the message unless the
 * chat's last message is this same user text (a retry of an answer that failed). With `answer`, the answer too, after
 * the turn (a chat already known to be the user's records its whole exchange at its end). "foreign" when the id is
 * another user's chat: nothing is written. One statement, one round trip.
 */
export async function saveUserTurn(
  db: Executor,
  turn: { userId: string; chatId: string; title: string; text: string; at: Date },
  answer?: AnswerRecord & { id: string; at: Date },
): Promise<"saved" | "repeated" | "foreign"> {
  // `chat` creates the chat, or marks the user's own chat active; another user's chat is left alone and yields no
  // row, so nothing is added to it. `last` is the chat's last message as the statement began.
  const activeAt = (answer?.at ?? turn.at).toISOString();
  const answered = answer
    ? sql`,
    answered as (
      insert into ${chatMessages} (id, chat_id, user_id, role, text, model, input_tokens, output_tokens, cached_input_tokens, charge, created_at)
      select ${answer.id}, id, ${turn.userId}, 'assistant', ${answer.text}, ${answer.model}, ${answer.inputTokens}, ${answer.outputTokens},
        ${answer.cachedInputTokens}, ${answer.charge}, ${answer.at.toISOString()} from chat
    )`
    : sql``;
  const [row] = await executePrepared<{ own: boolean; added: boolean }>(db, sql`
    with chat as (
      insert into ${chats} (id, user_id, title, created_at, updated_at)
      values (${turn.chatId}, ${turn.userId}, ${turn.title}, ${turn.at.toISOString()}, ${activeAt})
      on conflict (id) do update set updated_at = excluded.updated_at where ${chats}.user_id = excluded.user_id
      returning id
    ),
    last as (
      select role, text from ${chatMessages} where chat_id = ${turn.chatId} order by created_at desc, id desc limit 1
    ),
    added as (
      insert into ${chatMessages} (id, chat_id, user_id, role, text, created_at)
      select ${crypto.randomUUID()}, id, ${turn.userId}, 'user', ${turn.text}, ${turn.at.toISOString()} from chat
      where not exists (select 1 from last where last.role = 'user' and last.text = ${turn.text})
      returning id
    )${answered}
    select exists (select 1 from chat) as own, exists (select 1 from added) as added`);
  if (!row?.own) return "foreign";
  return row.added ? "saved" : "repeated";
}

/**
 * Adds an assistant answer (its id chosen by the caller) with what it cost, and marks the chat active; false when the
 * chat is gone (deleted meanwhile) or not the user's. One statement: the chat's update yields its row only when it is
 * the user's, and the message is inserted from that row, so nothing is written for another user's chat.
 */
export async function saveAnswer(db: Executor, answer: AnswerRecord & { id: string; userId: string; chatId: string; at: Date }): Promise<boolean> {
  const at = answer.at.toISOString();
  const saved = await executePrepared(db, sql`
    with chat as (
      update ${chats} set updated_at = ${at} where id = ${answer.chatId} and user_id = ${answer.userId} returning id
    )
    insert into ${chatMessages} (id, chat_id, user_id, role, text, model, input_tokens, output_tokens, cached_input_tokens, charge, created_at)
    select ${answer.id}, id, ${answer.userId}, 'assistant', ${answer.text}, ${answer.model}, ${answer.inputTokens}, ${answer.outputTokens},
      ${answer.cachedInputTokens}, ${answer.charge}, ${at} from chat
    returning id`);
  return saved.length > 0;
}

/** Corrects a saved answer's charge to what the budget was charged in the end; false when it is gone. */
export async function setAnswerCharge(db: Executor, answer: { id: string; userId: string; charge: number }): Promise<boolean> {
  const updated = await db
    .update(chatMessages)
    .set({ charge: answer.charge })
    .where(and(eq(chatMessages.id, answer.id), eq(chatMessages.userId, answer.userId), eq(chatMessages.role, "assistant")))
    .returning({ id: chatMessages.id });
  return updated.length > 0;
}

/** The user's chats, most recently active first. */
export async function listChats(db: Db, userId: string, limit = 200): Promise<ChatSummary[]> {
  return db
    .select({ id: chats.id, title: chats.title, createdAt: chats.createdAt, updatedAt: chats.updatedAt })
    .from(chats)
    .where(eq(chats.userId, userId))
    .orderBy(desc(chats.updatedAt), desc(chats.id))
    .limit(limit);
}

/** One of the user's chats with its messages in order; null when there is no such chat of theirs. */
export async function findChat(db: Db, userId: string, chatId: string): Promise<{ chat: ChatSummary; messages: ChatMessageRow[] } | null> {
  const [chat] = await db
    .select({ id: chats.id, title: chats.title, createdAt: chats.createdAt, updatedAt: chats.updatedAt })
    .from(chats)
    .where(and(eq(chats.id, chatId), eq(chats.userId, userId)));
  if (!chat) return null;
  const messages = await db.select().from(chatMessages).where(eq(chatMessages.chatId, chatId)).orderBy(asc(chatMessages.createdAt), asc(chatMessages.id));
  return { chat, messages };
}

export async function renameChat(db: Db, userId: string, chatId: string, title: string): Promise<boolean> {
  const updated = await db
    .update(chats)
    .set({ title })
    .where(and(eq(chats.id, chatId), eq(chats.userId, userId)))
    .returning({ id: chats.id });
  return updated.length > 0;
}

/** Deletes the chat and (by cascade) its messages. */
export async function deleteChat(db: Db, userId: string, chatId: string): Promise<boolean> {
  const deleted = await db
    .delete(chats)
    .where(and(eq(chats.id, chatId), eq(chats.userId, userId)))
    .returning({ id: chats.id });
  return deleted.length > 0;
}

/** How many chats a user has (for tests and limits). */
export async function countChats(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ value: sql<number>`count(*)::int` }).from(chats).where(eq(chats.userId, userId));
  return row?.value ?? 0;
}

export interface UsageRow {
  period: "current" | "previous";
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  model: string;
  tokens: number;
  answers: number;
}

/**
 * Budget tokens charged and answers given, per period, UTC day and model, from the stored assistant messages:
 * `previous` covers [previousStart, currentStart), `current` [currentStart, end).
 */
export async function usageByDay(db: Db, userId: string, range: { previousStart: Date; currentStart: Date; end: Date }): Promise<UsageRow[]> {
  // A raw Date is not a postgres-js parameter: pass the instant as text, cast (the column helpers below map their own).
  const period = sql<"current" | "previous">`case when ${chatMessages.createdAt} >= ${range.currentStart.toISOString()}::timestamptz then 'current' else 'previous' end`;
  const day = sql<string>`to_char(${chatMessages.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await db
    .select({
      period,
      day,
      model: sql<string>`coalesce(${chatMessages.model}, 'unknown')`,
      tokens: sql<number>`coalesce(sum(${chatMessages.charge}), 0)::bigint`,
      answers: sql<number>`count(*)::int`,
    })
    .from(chatMessages)
    .where(
      and(
        eq(chatMessages.userId, userId),
        eq(chatMessages.role, "assistant"),
        gte(chatMessages.createdAt, range.previousStart),
        lt(chatMessages.createdAt, range.end),
      ),
    )
    .groupBy(sql`1`, sql`2`, sql`3`)
    .orderBy(sql`2`, sql`3`);
  return rows.map((row) => ({ ...row, tokens: Number(row.tokens), answers: Number(row.answers) }));
}

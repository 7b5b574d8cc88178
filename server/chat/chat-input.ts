// Validates the body `useChat` posts to /api/chat and reduces it to a text-only conversation. Only user and
// assistant messages are accepted from a client (the system prompt belongs to the server); non-text parts are
// dropped; the limits bound what a single request can cost before any token is counted.
import { z } from "zod";

export const MAX_MESSAGES = 50;
export const MAX_MESSAGE_CHARS = 8_000;
export const MAX_CONVERSATION_CHARS = 32_000;
/** Ceiling on the raw body, above which it is not even parsed (stripped parts such as data URLs count too). */
export const MAX_BODY_BYTES = 256 * 1024;

export interface ChatTurn {
  role: "user" | "assistant";
  text: string;
}

const count = (value: number) => value.toLocaleString("en-US");

const partSchema = z.looseObject({
  type: z.string({ error: "every part needs a string type" }),
  text: z.unknown().optional(),
});

const messageSchema = z.object({
  id: z.string().optional(),
  role: z.enum(["user", "assistant"], { error: 'role must be "user" or "assistant"' }),
  parts: z.array(partSchema, { error: "parts must be an array" }).max(100, { error: "too many parts (at most 100)" }),
});

const bodySchema = z.object(
  {
    /** The chat's id (useChat's); the conversation is saved under it. */
    id: z
      .string({ error: "id must be a string" })
      .regex(/^[\w-]{1,100}$/, { error: "id must be 1 to 100 letters, digits, '_' or '-'" })
      .optional(),
    messages: z
      .array(messageSchema, { error: "messages must be an array" })
      .min(1, { error: "send at least one message" })
      .max(MAX_MESSAGES, { error: `too many messages (at most ${MAX_MESSAGES}); start a new chat` }),
    trigger: z.string().optional(),
    messageId: z.string().optional(),
    /** A model id from lib/chat-models; the plan's default when absent. Checked against the plan by the chat. */
    model: z.string({ error: "model must be a string" }).max(64, { error: "model is too long" }).optional(),
  },
  { error: "the body must be a JSON object" },
);

function pathLabel(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : `${index > 0 ? "." : ""}${String(key)}`)).join("");
}

export type ParsedChatBody = { ok: true; turns: ChatTurn[]; model: string | undefined; chatId: string | undefined } | { ok: false; message: string };

/** Parses the raw request body; every refusal names what is wrong and where. */
export function parseChatBody(raw: string): ParsedChatBody {
  if (raw.length > MAX_BODY_BYTES) return { ok: false, message: `The request body is larger than ${count(MAX_BODY_BYTES)} bytes.` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, message: "The request body is not valid JSON." };
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${pathLabel(issue.path)}: ` : "";
    return { ok: false, message: `Invalid chat request: ${where}${issue?.message ?? "unreadable body"}.` };
  }

  const turns: ChatTurn[] = [];
  let total = 0;
  for (const [index, message] of parsed.data.messages.entries()) {
    let text = "";
    for (const part of message.parts) {
      if (part.type !== "text") continue;
      if (typeof part.text !== "string") return { ok: false, message: `Invalid chat request: messages[${index}] has a text part without text.` };
      text += part.text;
    }
    // Postgres cannot store U+0000 in text: such a turn could be answered and charged, but never saved.
    if (text.includes("\u0000")) {
      return { ok: false, message: `messages[${index}] contains a NUL character (U+0000), which cannot be saved; remove it.` };
    }
    if (text.length > MAX_MESSAGE_CHARS) {
      return { ok: false, message: `messages[${index}] is longer than ${count(MAX_MESSAGE_CHARS)} characters; shorten it.` };
    }
    total += text.length;
    if (text.trim() === "") {
      // An assistant turn without text (stopped before its first word, or tool output we do not render) adds nothing.
      if (message.role === "assistant") continue;
      return { ok: false, message: `messages[${index}] has no text; only text messages are supported.` };
    }
    turns.push({ role: message.role, text });
  }
  if (total > MAX_CONVERSATION_CHARS) {
    return { ok: false, message: `The conversation is longer than ${count(MAX_CONVERSATION_CHARS)} characters; start a new chat.` };
  }
  if (parsed.data.messages.at(-1)?.role !== "user") {
    return { ok: false, message: "The last message must come from the user." };
  }
  return { ok: true, turns, model: parsed.data.model, chatId: parsed.data.id };
}

// What the chat route and the chats router accept as a chat id (server/chat/chat-input.ts, server/api/routers/chats.ts):
// the page checks the URL's `c` against it before asking for the chat. A plain module, so server and client both import it.
export const SAVED_CHAT_ID = /^[\w-]{1,100}$/;

// A small OpenAI-compatible server for tests: POST /v1/chat/completions streams a Chat Completions answer as SSE
// (with the usage chunk `stream_options.include_usage` asks for), or fails the way a real model server does. The
// failure is chosen per request by the model name when it names a mode (CHAT_MODEL=<mode>), else by `setMode`, so
// one server serves every case: point the app at it with OPENAI_BASE_URL (and OPENAI_API_KEY for the OpenAI
// provider). `refuseConnections(true)` stops listening on its port, so connections are refused as if it were down.
import http from "node:http";
import type { AddressInfo } from "node:net";

export const fakeModelModes = [
  /** Streams the answer in full, then the usage. */
  "ok",
  /** 401 with OpenAI's error body (a wrong API key). */
  "unauthorized",
  /** 429 rate limit (the SDK retries it, then gives up). */
  "rate-limited",
  /** 500 server error (retried, then given up). */
  "server-error",
  /** Accepts the request and never answers: no status line, no token. */
  "stall",
  /** Sends 200 and the SSE headers, then nothing. */
  "stall-after-headers",
  /** Streams a few words, then drops the connection mid-answer. */
  "break",
] as const;

export type FakeModelMode = (typeof fakeModelModes)[number];

export const FAKE_ANSWER_WORDS = ["The ", "model ", "answers ", "in ", "seven ", "short ", "words."];
/** Words sent before "break" drops the connection. */
export const WORDS_BEFORE_BREAK = 3;
export const FAKE_PROMPT_TOKENS = 11;

export interface FakeOpenAI {
  /** Base URL ending in /v1, as OPENAI_BASE_URL takes it. */
  baseURL: string;
  /** Requests received per mode (the SDK's retries show up here). */
  requests(mode: FakeModelMode): number;
  /** The mode for requests whose model name is not a mode. */
  setMode(mode: FakeModelMode): void;
  /** Stops (true) or resumes (false) listening on the same port; open connections are dropped. */
  refuseConnections(refuse: boolean): Promise<void>;
  close(): Promise<void>;
}

const isMode = (value: unknown): value is FakeModelMode => fakeModelModes.some((mode) => mode === value);

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const counts = new Map<FakeModelMode, number>();
  let defaultMode: FakeModelMode = "ok";
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    let model: unknown;
    try {
      model = (JSON.parse(raw) as { model?: unknown }).model;
    } catch {
      model = undefined;
    }
    const mode: FakeModelMode = isMode(model) ? model : defaultMode;
    counts.set(mode, (counts.get(mode) ?? 0) + 1);
    const fail = (status: number, type: string, message: string) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { message, type, code: type } }));

    switch (mode) {
      case "unauthorized":
        return fail(401, "invalid_api_key", "Incorrect API key provided.");
      case "rate-limited":
        return fail(429, "rate_limit_exceeded", "Rate limit reached for requests.");
      case "server-error":
        return fail(500, "server_error", "The server had an error while processing your request.");
      case "stall":
        return; // the socket stays open until the client gives up or the server closes
      default:
        break;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    if (mode === "stall-after-headers") return;
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
      id: "chatcmpl-fake",
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: mode,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
    const words = mode === "break" ? FAKE_ANSWER_WORDS.slice(0, WORDS_BEFORE_BREAK) : FAKE_ANSWER_WORDS;
    for (const [i, word] of words.entries()) {
      send(chunk(i === 0 ? { role: "assistant", content: word } : { content: word }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (mode === "break") {
      // Drop the connection in the middle of the chunked body: the client sees "terminated", not an end.
      res.socket?.destroy();
      return;
    }
    send(chunk({}, "stop"));
    send({
      id: "chatcmpl-fake",
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: mode,
      choices: [],
      usage: { prompt_tokens: FAKE_PROMPT_TOKENS, completion_tokens: FAKE_ANSWER_WORDS.length, total_tokens: FAKE_PROMPT_TOKENS + FAKE_ANSWER_WORDS.length },
    });
    res.end("data: [DONE]\n\n");
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: (mode) => counts.get(mode) ?? 0,
    setMode: (mode) => {
      defaultMode = mode;
    },
    refuseConnections: async (refuse) => {
      if (refuse) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        dropAll();
        await closed;
      } else {
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}

/** A base URL nothing listens on: the connection is refused. */
export async function refusingBaseURL(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

// The checks every state-changing route runs at its edge, before any other work: the request comes from this
// app (same origin), has the content type the route parses, and is no larger than the route's byte cap. A
// refusal is a JSON error response (403, 415, 413); an accepted request comes back with its body read, so the
// route parses bytes it knows are bounded. One helper, used by /api/trpc, /api/chat, /api/auth and the Stripe
// webhook (which skips the origin check: Stripe is not a browser and signs its bodies instead).
import { env, type Env } from "@/lib/env";

export const BYTE_LIMITS = {
  webhook: 1024 * 1024,
  chat: 256 * 1024,
  trpc: 64 * 1024,
  auth: 64 * 1024,
} as const;

export interface GuardOptions {
  /** Refuse (403) unless Origin, or failing that Sec-Fetch-Site, says the request comes from this app. */
  sameOrigin: boolean;
  /** Accepted media types (lowercase, without parameters); others get 415. Omit to accept any. */
  contentTypes?: readonly string[];
  /** The body's byte cap: checked on Content-Length before reading and again while streaming (413). */
  maxBytes: number;
  /** The app's origin(s); defaults to appOrigins(): APP_URL's, plus its loopback aliases in development. */
  appOrigin?: string | readonly string[];
}

export type GuardResult = { ok: true; body: Uint8Array; request: Request } | { ok: false; response: Response };

const refuse = (status: number, code: string, message: string, headers?: HeadersInit): { ok: false; response: Response } => ({
  ok: false,
  response: Response.json({ error: { code, message } }, { status, headers }),
});

export function appOrigin(): string {
  return new URL(env.APP_URL).origin;
}

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/**
 * The origins this app's pages are served from: APP_URL's, and in development only, when APP_URL is a loopback
 * address, the same scheme and port under the other loopback names (`next dev` answers on all of them, and people
 * open http://127.0.0.1:3000 as often as http://localhost:3000). Production accepts APP_URL's origin alone.
 */
export function appOrigins(current: Pick<Env, "APP_URL" | "NODE_ENV"> = env): string[] {
  const url = new URL(current.APP_URL);
  if (current.NODE_ENV !== "development" || !LOOPBACK_HOSTS.includes(url.hostname)) return [url.origin];
  return LOOPBACK_HOSTS.map((host) => {
    const alias = new URL(url.origin);
    alias.hostname = host;
    return alias.origin;
  });
}

/**
 * The app origin a request's page is on: its Origin header (or, without one, http://<Host>) when that is one of
 * appOrigins(), else null. Only ever one of the app's own origins, so it is safe to build return URLs from.
 */
export function requestAppOrigin(headers: Headers, current: Pick<Env, "APP_URL" | "NODE_ENV"> = env): string | null {
  const origins = appOrigins(current);
  const origin = headers.get("origin");
  if (origin !== null) return origins.includes(origin) ? origin : null;
  const host = headers.get("host");
  if (!host) return null;
  const scheme = new URL(current.APP_URL).protocol;
  const candidate = `${scheme}//${host}`;
  return origins.includes(candidate) ? candidate : null;
}

/**
 * Whether a request was made by this app's own pages. Browsers send `Origin` on every POST (fetch and forms);
 * it must be exactly one of appOrigins() (APP_URL's origin in production), so a sibling subdomain or another localhost port is refused too. Without
 * an Origin, `Sec-Fetch-Site: same-origin` is accepted. Neither (curl, a server) is refused: state changes come
 * from the app's pages, and server-side code calls the services directly, not over HTTP.
 */
export function isSameOrigin(headers: Headers, origin: string | readonly string[] = appOrigins()): boolean {
  const fetchSite = headers.get("sec-fetch-site");
  if (fetchSite !== null && fetchSite !== "same-origin") return false;
  const sent = headers.get("origin");
  if (sent !== null) return typeof origin === "string" ? sent === origin : origin.includes(sent);
  return fetchSite === "same-origin";
}

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The request body is larger than ${formatBytes(maxBytes)}.`);
    this.name = "BodyTooLargeError";
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} kB`;
}

/**
 * Reads the whole body, refusing one larger than `maxBytes` without reading it: a declared Content-Length over
 * the cap is refused before the first byte, and a streamed body is cancelled as soon as it passes the cap, so
 * memory never holds more than the cap (plus one chunk) whatever the client sends.
 */
export async function readBodyWithLimit(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(maxBytes);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function mediaType(headers: Headers): string {
  return (headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Runs the route's edge checks in order: origin (403), content type (415), size (413). */
export async function guardRequest(request: Request, options: GuardOptions): Promise<GuardResult> {
  if (options.sameOrigin && !isSameOrigin(request.headers, options.appOrigin ?? appOrigins())) {
    return refuse(403, "FORBIDDEN", "Cross-origin request refused: this endpoint only accepts requests from this app's own pages.");
  }
  if (options.contentTypes && !options.contentTypes.includes(mediaType(request.headers))) {
    return refuse(415, "UNSUPPORTED_MEDIA_TYPE", `Unsupported content type: send ${options.contentTypes.join(" or ")}.`);
  }
  let body: Uint8Array;
  try {
    body = await readBodyWithLimit(request, options.maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      // Tell the client to stop sending: the rest of an oversized upload is not wanted.
      return refuse(413, "PAYLOAD_TOO_LARGE", `${error.message} Send at most ${formatBytes(options.maxBytes)}.`, { Connection: "close" });
    }
    return refuse(400, "BAD_REQUEST", "The request body could not be read.");
  }
  // The same request with its (bounded) body already read, for handlers that read it themselves.
  const copy = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: body.byteLength > 0 ? (body as Uint8Array<ArrayBuffer>) : undefined,
    signal: request.signal,
  });
  return { ok: true, body, request: copy };
}

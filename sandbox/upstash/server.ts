// A small Upstash-compatible REST bridge in front of a real Redis, for development and CI where Upstash's own
// SRH (Docker only) cannot run. It speaks what @upstash/redis 1.39 sends with default settings: POST `/`,
// `/pipeline`, `/multi-exec`, a bearer token, and `Upstash-Encoding: base64` replies. Standalone: no app imports.
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { Redis } from "ioredis";

export interface UpstashBridgeOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  redisUrl?: string;
  /** The bearer token clients must send (UPSTASH_REDIS_REST_TOKEN on their side). */
  token: string;
  /** Connection problems with Redis; requests meanwhile fail with 503 rather than hang. */
  onRedisError?: (error: Error) => void;
}

export interface UpstashBridge {
  url: string;
  port: number;
  close(): Promise<void>;
}

type Json = string | number | null | Json[];
type Arg = string | number | boolean;
type Command = [string, ...Arg[]];
type Reply = { result: Json } | { error: string };

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The only commands the bridge forwards (lower case). Everything else (CONFIG, FLUSHALL, FLUSHDB, KEYS, DEBUG,
 * SHUTDOWN, CLIENT, ACL, MODULE, FUNCTION, SELECT, SUBSCRIBE, blocking pops, ...) is refused with 400 ERR before it
 * reaches Redis. The list is what the app's stores send:
 * - the budget store (server/usage/upstash-store.ts): its four Lua scripts through EVALSHA, falling back to EVAL
 *   (SCRIPT LOAD/EXISTS for clients that preload), and inside those scripts GET, SET, DECRBY, HGET, HSET, HEXISTS,
 *   PEXPIRE, PTTL and TIME;
 * - the plain key/value commands next to it: reading and deleting a user's keys (GET, MGET, DEL, UNLINK, EXISTS,
 *   TYPE, SCAN, HGETALL, HDEL), counters with expiry (INCR, INCRBY, DECR, EXPIRE, PEXPIREAT, TTL, PERSIST, HINCRBY)
 *   and PING/ECHO for readiness checks.
 * A new store that needs another data command adds it here (and to `SCRIPT_COMMANDS` if its Lua calls it).
 */
export const ALLOWED_COMMANDS: ReadonlySet<string> = new Set([
  "eval", "evalsha", "script",
  "get", "set", "mget", "del", "unlink", "exists", "type", "scan",
  "incr", "incrby", "decr", "decrby", "expire", "pexpire", "expireat", "pexpireat", "ttl", "pttl", "persist",
  "hget", "hset", "hdel", "hexists", "hgetall", "hincrby",
  "time", "ping", "echo",
]);

/** SCRIPT subcommands the bridge forwards: LOAD (checked like EVAL) and EXISTS. FLUSH and KILL are refused. */
const SCRIPT_SUBCOMMANDS = new Set(["load", "exists"]);

/**
 * What a Lua script sent through EVAL or SCRIPT LOAD may call: the data commands above, never EVAL again. Arbitrary
 * Lua is restricted because inside a script Redis runs FLUSHALL, KEYS and other commands the allow-list refuses,
 * so without this check EVAL would reopen everything. The check is static and conservative: every use of the
 * `redis` table must be `redis.call('NAME'` / `redis.pcall('NAME'` with a literal allowed name, or one of the
 * harmless helpers; anything that could reach the table another way (`_G`, `getfenv`, `rawget`, `loadstring`,
 * `load`, `setfenv`, `rawset`, `dofile`, `require`) is refused. EVALSHA runs only scripts that passed this check
 * through this bridge; for any other hash it answers NOSCRIPT, so a client falls back to EVAL and is checked.
 */
const SCRIPT_COMMANDS = new Set([...ALLOWED_COMMANDS].filter((name) => !["eval", "evalsha", "script", "scan"].includes(name)));
const LUA_REDIS_HELPERS = new Set(["error_reply", "status_reply", "sha1hex", "log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "setresp"]);
const LUA_FORBIDDEN = /\b(_G|_ENV|getfenv|setfenv|rawget|rawset|rawequal|loadstring|load|dofile|loadfile|require|module|debug|newproxy|setmetatable|getmetatable)\b/;

/** An HTTP error with Upstash's reply body: `{"error": message}`. */
class BridgeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startUpstashBridge(options: UpstashBridgeOptions): Promise<UpstashBridge> {
  if (!options.token) throw new TypeError("startUpstashBridge: token must be a non-empty string");
  const expectedToken = digest(options.token);

  const redis = new Redis(options.redisUrl ?? "redis://127.0.0.1:6379", {
    // Fail fast when Redis is gone: a queued command is rejected after one failed reconnect, and a stuck
    // command after 5 s, so a client gets a 503 instead of waiting forever.
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  redis.on("error", (error: Error) => options.onRedisError?.(error));

  // SHA1s of the scripts that passed checkLua here; EVALSHA of any other answers NOSCRIPT (the client then EVALs).
  const checkedScripts = new Set<string>();
  /** Checks a command's script, if any; returns a NOSCRIPT reply for an EVALSHA this bridge has not checked. */
  const admit = (command: Command): string | null => {
    const source = scriptSource(command);
    if (source !== null) {
      checkLua(source);
      checkedScripts.add(createHash("sha1").update(source).digest("hex"));
      return null;
    }
    if (command[0].toLowerCase() === "evalsha" && !checkedScripts.has(String(command[1] ?? "").toLowerCase())) {
      return "NOSCRIPT No matching script. Please use EVAL.";
    }
    return null;
  };

  async function handle(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    if (req.method !== "POST") throw new BridgeError(405, "ERR only POST is supported by this bridge");
    if (!authorized(req.headers.authorization, expectedToken)) return { status: 401, body: { error: "Unauthorized" } };
    const path = (req.url ?? "/").split("?")[0];
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const body = await readJson(req);

    if (path === "/" || path === "") {
      const command = parseCommand(body);
      const noScript = admit(command);
      if (noScript) throw new BridgeError(400, noScript);
      try {
        return { status: 200, body: { result: encode(await redis.callBuffer(...toRedisArgs(command)), base64) } };
      } catch (error) {
        throw asBridgeError(error);
      }
    }
    if (path === "/pipeline" || path === "/multi-exec") {
      if (!Array.isArray(body) || body.length === 0) {
        throw new BridgeError(400, "ERR a pipeline must be a non-empty array of commands");
      }
      const commands = body.map(parseCommand);
      // A refused EVALSHA is answered in its place, as Redis would; in a transaction it aborts the whole.
      const refused = commands.map(admit);
      const firstRefusal = refused.find((reply) => reply !== null);
      if (path === "/multi-exec" && firstRefusal) throw new BridgeError(400, `EXECABORT ${firstRefusal}`);
      const batch = path === "/pipeline" ? redis.pipeline() : redis.multi();
      commands.forEach((command, i) => {
        if (refused[i] === null) batch.callBuffer(...toRedisArgs(command));
      });
      let results: [error: Error | null, result: unknown][] | null;
      try {
        results = await batch.exec();
      } catch (error) {
        // EXECABORT (a command refused while queueing) or a lost connection: nothing to report per command.
        throw asBridgeError(error);
      }
      if (!results) throw new BridgeError(500, "ERR transaction aborted");
      const ran = results[Symbol.iterator]();
      const replies: Reply[] = refused.map((refusal) => {
        if (refusal !== null) return { error: refusal };
        const [error, result] = ran.next().value ?? [new Error("missing reply"), null];
        if (!error) return { result: encode(result, base64) };
        if (isReplyError(error)) return { error: error.message };
        throw asBridgeError(error);
      });
      return { status: 200, body: replies };
    }
    throw new BridgeError(404, `ERR unknown endpoint ${path}`);
  }

  const server = http.createServer((req, res) => {
    handle(req).then(
      ({ status, body }) => respond(res, status, body),
      (error: unknown) => {
        const failure = error instanceof BridgeError ? error : new BridgeError(500, `ERR ${String(error)}`);
        respond(res, failure.status, { error: failure.message });
      },
    );
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      // listen() on a TCP port always reports an AddressInfo; a string would mean a pipe path.
      if (typeof address === "object" && address) resolve(address.port);
      else reject(new Error(`unexpected server address ${String(address)}`));
    });
  }).catch(async (error: unknown) => {
    redis.disconnect();
    throw error;
  });

  const host = options.host ?? "127.0.0.1";
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      redis.disconnect();
    },
  };
}

function respond(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) });
  res.end(payload);
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer (.+)$/i.exec(header ?? "");
  const token = match?.[1];
  return token !== undefined && timingSafeEqual(digest(token), expected);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BridgeError(413, "ERR request body too large");
    chunks.push(buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BridgeError(400, "ERR failed to parse the request body as JSON");
  }
}

function parseCommand(value: unknown): Command {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BridgeError(400, "ERR a command must be a non-empty JSON array");
  }
  const [name, ...rest] = value;
  if (typeof name !== "string" || name.length === 0) throw new BridgeError(400, "ERR the command name must be a string");
  const args: Arg[] = [];
  for (const arg of rest) {
    if (typeof arg === "string" || typeof arg === "number" || typeof arg === "boolean") args.push(arg);
    else throw new BridgeError(400, `ERR unsupported argument ${JSON.stringify(arg)} for '${name}'`);
  }
  const lower = name.toLowerCase();
  if (!ALLOWED_COMMANDS.has(lower)) {
    throw new BridgeError(400, `ERR '${name}' is not allowed over this REST bridge`);
  }
  if (lower === "script") {
    const sub = String(args[0] ?? "").toLowerCase();
    if (!SCRIPT_SUBCOMMANDS.has(sub)) throw new BridgeError(400, `ERR 'SCRIPT ${sub.toUpperCase()}' is not allowed over this REST bridge`);
  }
  return [name, ...args];
}

/** The Lua source a command brings (EVAL's first argument, SCRIPT LOAD's second), or null. */
function scriptSource(command: Command): string | null {
  const [name, ...args] = command;
  const lower = name.toLowerCase();
  if (lower === "eval") return String(args[0] ?? "");
  if (lower === "script" && String(args[0] ?? "").toLowerCase() === "load") return String(args[1] ?? "");
  return null;
}

/** Refuses a Lua script that could call a command outside the allow-list (see SCRIPT_COMMANDS). */
export function checkLua(source: string): void {
  // Comments and string contents cannot call anything; strip them so `-- redis.call('FLUSHALL')` is harmless and a
  // command name can only come from the literal right after `redis.call(`.
  const code = source.replace(/--\[(=*)\[[\s\S]*?\]\1\]/g, " ").replace(/--[^\n]*/g, " ");
  const forbidden = LUA_FORBIDDEN.exec(code.replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''"));
  if (forbidden) throw new BridgeError(400, `ERR scripts over this REST bridge may not use '${forbidden[1]}'`);
  const uses = code.match(/\bredis\b/g)?.length ?? 0;
  let allowed = 0;
  for (const match of code.matchAll(/\bredis\s*\.\s*(p?call)\s*\(\s*(['"])([A-Za-z_]+)\2/g)) {
    const command = (match[3] ?? "").toLowerCase();
    if (!SCRIPT_COMMANDS.has(command)) {
      throw new BridgeError(400, `ERR scripts over this REST bridge may not call '${match[3]}'`);
    }
    allowed++;
  }
  for (const match of code.matchAll(/\bredis\s*\.\s*([A-Za-z_]+)\b(?!\s*\()|\bredis\s*\.\s*([A-Za-z_]+)\s*\(/g)) {
    if (LUA_REDIS_HELPERS.has(match[1] ?? match[2] ?? "")) allowed++;
  }
  if (uses !== allowed) {
    throw new BridgeError(400, "ERR scripts over this REST bridge must call redis.call/pcall with a literal command name");
  }
}

function toRedisArgs(command: Command): [string, ...(string | number)[]] {
  const [name, ...args] = command;
  // ioredis keys its reply transformers by the lower-case name (HGETALL would come back as an object);
  // the upper-case name reaches Redis the same but keeps every reply raw, as Upstash sends it.
  return [name.toUpperCase(), ...args.map((arg) => (typeof arg === "boolean" ? String(arg) : arg))];
}

// Upstash's base64 response encoding: every string is base64 of its bytes, except a top-level "OK" (the client
// decodes array elements without that exception); integers and nil stay as they are; arrays element by element.
function encode(value: unknown, base64: boolean, topLevel = true): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((item) => encode(item, base64, false));
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value instanceof Error ? value.message : String(value));
  const text = bytes.toString("utf8");
  if (!base64 || (topLevel && text === "OK")) return text;
  return bytes.toString("base64");
}

function asBridgeError(error: unknown): BridgeError {
  if (error instanceof BridgeError) return error;
  if (isReplyError(error)) return new BridgeError(400, error.message);
  const reason = error instanceof Error ? error.message : String(error);
  return new BridgeError(503, `ERR redis unavailable: ${reason}`);
}

/** An error Redis itself answered (WRONGTYPE, NOSCRIPT, EXECABORT, ...), as opposed to a lost connection. */
function isReplyError(error: unknown): error is Error {
  // ioredis types its ReplyError class as `any`, so the check goes by name (set by redis-errors).
  return error instanceof Error && error.name === "ReplyError";
}

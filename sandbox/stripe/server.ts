// The Stripe sandbox's HTTP server: Stripe's REST API under /v1 (any `sk_test_` key), hosted Checkout, Portal and
// invoice pages, an admin page at /, and /_sandbox control endpoints for tests. State lives in memory and, when a
// state file is given, is written there (debounced) and read back at start.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { createApi } from "./api";
import { Deliveries, type DeliveryEndpoint, type Faults } from "./delivery";
import { Engine, type RequestContext } from "./engine";
import { StripeApiError, invalidRequest, unauthorized } from "./errors";
import { fromJson, parseForm, type Params } from "./form";
import { completionFromParams, createPages } from "./pages";
import { bool, int } from "./params";
import { API_VERSION, emptyState, newId, realNow, type SandboxState } from "./state";
import { STRIPE_SANDBOX_DEFAULT_PORT } from "../../lib/local-services";
import { createThrottle, rateLimitedBody, rateLimitedHeaders, type ThrottleOptions } from "./throttle";

export interface StripeSandboxOptions {
  /** 0 picks a free port; default STRIPE_SANDBOX_DEFAULT_PORT (12111, stripe-mock's port) */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** JSON file the state is kept in across restarts; null or undefined keeps it in memory only */
  stateFile?: string | null;
  /** endpoints that receive every event, besides those created through the API */
  webhooks?: Array<{ url: string; secret: string }>;
  /** delivery retry backoff base in ms (default 1000) */
  retryBaseMs?: number;
  /** delivery attempts before giving up (default 8) */
  maxAttempts?: number;
  /** give each customer created without `test_clock` its own clock (default true) */
  autoTestClock?: boolean;
  /** Stripe's pace for /v1: latency, jitter and a rate limit (see throttle.ts); default none */
  throttle?: ThrottleOptions;
}

export interface StripeSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
  /** resolves when no webhook delivery is pending or in flight */
  idle(): Promise<void>;
  /** Changes the API's pace (latency, jitter, rate limit) from now on; `{}` answers at full speed again. */
  setThrottle(options: ThrottleOptions): void;
  /** How many API requests this sandbox has answered for a method and path, e.g. ("GET", "/v1/subscriptions"); all of them without arguments. */
  apiRequests(method?: string, path?: string): number;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): Params {
  if (!raw) return {};
  if (contentType?.includes("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalidRequest("Invalid JSON body.");
    }
    const params = fromJson(parsed);
    return typeof params === "object" && !Array.isArray(params) ? params : {};
  }
  return parseForm(raw);
}

function isTestKey(header: string | undefined): boolean {
  if (!header) return false;
  const [scheme, value = ""] = header.split(" ", 2);
  if (scheme === "Bearer") return value.startsWith("sk_test_") || value.startsWith("rk_test_");
  // The Stripe CLI and curl -u send the key as the Basic user name.
  if (scheme === "Basic") return Buffer.from(value, "base64").toString("utf8").startsWith("sk_test_");
  return false;
}

/**
 * A browser request another site made: its `Origin` is not this sandbox's own (the Host it was sent to), or
 * `Sec-Fetch-Site` says cross-site/same-site. Requests without either header (tests, curl, the Stripe client) and the
 * hosted pages' own forms (same origin) pass. Used for every state-changing request outside /v1 (which needs a key).
 */
export function isCrossOrigin(req: http.IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (typeof site === "string" && site !== "same-origin" && site !== "none") return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    const parsed = new URL(origin);
    return parsed.protocol !== "http:" || parsed.host !== req.headers.host;
  } catch {
    return true; // "null" (sandboxed frames, some redirects) or garbage
  }
}

function loadState(file: string | null): SandboxState {
  if (!file || !fs.existsSync(file)) return emptyState();
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as SandboxState;
    if (parsed.version !== 1) return emptyState();
    return { ...emptyState(), ...parsed };
  } catch (error) {
    console.warn(`Stripe sandbox: ignoring unreadable state file ${file}:`, error);
    return emptyState();
  }
}

export async function startStripeSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  const host = options.host ?? "127.0.0.1";
  const requestedPort = options.port ?? STRIPE_SANDBOX_DEFAULT_PORT;
  const stateFile = options.stateFile ?? null;
  const configured: DeliveryEndpoint[] = (options.webhooks ?? []).map((w, i) => ({
    id: `we_configured_${i}`,
    url: w.url,
    secret: w.secret,
    enabledEvents: ["*"],
  }));

  let saveTimer: NodeJS.Timeout | null = null;
  const saveNow = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    if (!stateFile) return;
    fs.mkdirSync(path.dirname(stateFile), { recursive: true });
    const tmp = `${stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(engine.state));
    fs.renameSync(tmp, stateFile);
  };
  const scheduleSave = () => {
    if (!stateFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      try {
        saveNow();
      } catch (error) {
        console.warn("Stripe sandbox: could not save state:", error);
      }
    }, 250);
  };

  const engine: Engine = new Engine(
    {
      onEvent: (event) => {
        deliveries.enqueue(event);
        scheduleSave();
      },
      onChange: scheduleSave,
    },
    options.autoTestClock ?? true,
  );
  engine.state = loadState(stateFile);

  const endpoints = (): DeliveryEndpoint[] => [
    ...configured,
    ...Object.values(engine.state.webhookEndpoints)
      .filter((e) => e.endpoint.status === "enabled")
      .map((e) => ({ id: e.endpoint.id, url: e.endpoint.url, secret: e.secret, enabledEvents: e.endpoint.enabled_events })),
  ];
  const deliveries = new Deliveries({
    state: () => engine.state,
    endpoints,
    retryBaseMs: options.retryBaseMs ?? 1000,
    maxAttempts: options.maxAttempts ?? 8,
    timeoutMs: 10_000,
    onChange: scheduleSave,
  });
  deliveries.restore();

  const api = createApi(engine, { endpointsChanged: scheduleSave });
  const pages = createPages(engine, { deliveries });

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === "string" ? body : JSON.stringify(body, null, 2);
    res.writeHead(status, { "content-type": "application/json", "stripe-version": API_VERSION, ...headers });
    res.end(text);
  };

  const forbidCrossOrigin = (res: http.ServerResponse) =>
    json(res, 403, {
      error: { type: "invalid_request_error", code: null, message: "The Stripe sandbox refuses cross-origin requests to its pages and control routes.", param: null },
    });

  let throttle = createThrottle(options.throttle);
  const apiRequestCounts = new Map<string, number>();
  const handleApi = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: string, ctx: RequestContext) => {
    if (!isTestKey(req.headers.authorization)) return json(res, 401, unauthorized().toBody());
    const method = req.method ?? "GET";
    const counted = `${method} ${url.pathname}`;
    apiRequestCounts.set(counted, (apiRequestCounts.get(counted) ?? 0) + 1);
    const params = { ...parseForm(url.search.slice(1)), ...(method === "GET" ? {} : parseBody(raw, req.headers["content-type"])) };
    const key = ctx.idempotencyKey;
    const fingerprint = `${method} ${url.pathname} ${raw}`;
    if (key && method === "POST") {
      const saved = engine.state.idempotency[key];
      if (saved) {
        if (saved.fingerprint !== fingerprint) {
          const error = new StripeApiError(
            400,
            "idempotency_error",
            null,
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          );
          return json(res, 400, error.toBody());
        }
        return json(res, saved.status, saved.body, { "idempotent-replayed": "true", "idempotency-key": key });
      }
    }
    let status: number;
    let body: string;
    try {
      const result = api({ method, path: url.pathname, params, ctx });
      status = result.status;
      body = JSON.stringify(result.body, null, 2);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      status = error.status;
      body = JSON.stringify(error.toBody(), null, 2);
    }
    // Stripe saves the outcome of a request that ran (success or a card error), not of one rejected as invalid.
    if (key && method === "POST" && (status === 200 || status === 402)) {
      engine.state.idempotency[key] = { fingerprint, status, body };
    }
    if (method !== "GET") scheduleSave();
    return json(res, status, body, key ? { "idempotency-key": key } : {});
  };

  const handleControl = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: string, ctx: RequestContext) => {
    const method = req.method ?? "GET";
    const params = parseBody(raw, req.headers["content-type"]);
    const complete = /^\/_sandbox\/checkout\/sessions\/([^/]+)\/complete$/.exec(url.pathname);
    if (complete && method === "POST") {
      const session = engine.requireOpenSession(decodeURIComponent(complete[1] ?? ""));
      const completed = engine.completeCheckout(session, completionFromParams(params, { address: true, card: true }), ctx);
      scheduleSave();
      return json(res, 200, completed);
    }
    const dispute = /^\/_sandbox\/charges\/([^/]+)\/dispute$/.exec(url.pathname);
    if (dispute && method === "POST") {
      // The cardholder disputes a paid charge now (Stripe's dispute card, 0259, disputes at once; this is for later).
      const id = decodeURIComponent(dispute[1] ?? "");
      const charge = engine.state.charges[id];
      if (!charge) return json(res, 404, { error: { type: "invalid_request_error", code: "resource_missing", message: `No such charge: '${id}'`, param: "id" } });
      const opened = engine.disputeCharge(charge, ctx);
      scheduleSave();
      return json(res, 200, opened);
    }
    if (url.pathname === "/_sandbox/faults" && method === "POST") {
      const faults: Partial<Faults> = {};
      const duplicate = int(params, "duplicate");
      if (duplicate !== undefined) faults.duplicate = Math.max(1, duplicate);
      const shuffle = bool(params, "shuffle");
      if (shuffle !== undefined) faults.shuffle = shuffle;
      const delayMs = int(params, "delayMs");
      if (delayMs !== undefined) faults.delayMs = Math.max(0, delayMs);
      const pause = bool(params, "pauseDeliveries");
      if (pause !== undefined) faults.pauseDeliveries = pause;
      deliveries.setFaults(faults);
      return json(res, 200, deliveries.faults);
    }
    if (url.pathname === "/_sandbox/reset" && method === "POST") {
      deliveries.clear();
      deliveries.setFaults({});
      engine.state = emptyState();
      saveNow();
      return json(res, 200, { reset: true });
    }
    if (url.pathname === "/_sandbox/idle" && method === "GET") {
      await deliveries.idle();
      return json(res, 200, { pending: deliveries.pendingCount() });
    }
    const advance = /^\/_sandbox\/test_clocks\/([^/]+)\/advance-month$/.exec(url.pathname);
    if (advance && method === "POST") {
      const clock = engine.state.testClocks[decodeURIComponent(advance[1] ?? "")];
      if (!clock) return json(res, 404, { error: { type: "invalid_request_error", code: "resource_missing", message: "No such test clock", param: "id" } });
      const target = new Date(clock.frozen_time * 1000);
      target.setUTCMonth(target.getUTCMonth() + 1);
      engine.advanceClock(clock, Math.floor(target.getTime() / 1000), ctx);
      scheduleSave();
      res.writeHead(303, { location: "/" });
      return res.end();
    }
    const endTrial = /^\/_sandbox\/test_clocks\/([^/]+)\/end-trial$/.exec(url.pathname);
    if (endTrial && method === "POST") {
      // Advances the clock to the last trial end among its customers' trialing subscriptions: each trial ends as at
      // Stripe (the first real invoice is created and charged; a failed charge makes the subscription past due).
      const clock = engine.state.testClocks[decodeURIComponent(endTrial[1] ?? "")];
      if (!clock) return json(res, 404, { error: { type: "invalid_request_error", code: "resource_missing", message: "No such test clock", param: "id" } });
      const trialEnds = Object.values(engine.state.subscriptions)
        .filter((sub) => sub.test_clock === clock.id && sub.status === "trialing" && sub.trial_end !== null)
        .map((sub) => sub.trial_end ?? 0);
      if (trialEnds.length === 0) {
        return json(res, 400, { error: { type: "invalid_request_error", code: null, message: "No subscription on this test clock is trialing.", param: null } });
      }
      const advanced = engine.advanceClock(clock, Math.max(clock.frozen_time, ...trialEnds), ctx);
      scheduleSave();
      // The admin page's form goes back to the page; an API caller gets the clock.
      if (params.from === "admin") {
        res.writeHead(303, { location: "/" });
        return res.end();
      }
      return json(res, 200, advanced);
    }
    return json(res, 404, { error: { type: "invalid_request_error", code: null, message: `Unknown sandbox control ${method} ${url.pathname}`, param: null } });
  };

  const server = http.createServer((req, res) => {
    const requestId = newId("req", 14);
    res.setHeader("request-id", requestId);
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    const idempotencyHeader = req.headers["idempotency-key"];
    const ctx: RequestContext = {
      requestId,
      idempotencyKey: typeof idempotencyHeader === "string" ? idempotencyHeader : null,
      baseUrl: `http://${req.headers.host ?? `${host}:${port}`}`,
    };
    engine.baseUrl = ctx.baseUrl;
    readBody(req)
      .then(async (raw) => {
        if (url.pathname.startsWith("/v1/")) {
          if (!(await throttle.admit())) return json(res, 429, rateLimitedBody, rateLimitedHeaders);
          return handleApi(req, res, url, raw, ctx);
        }
        if (req.method !== "GET" && req.method !== "HEAD" && isCrossOrigin(req)) return forbidCrossOrigin(res);
        if (url.pathname.startsWith("/_sandbox/")) return await handleControl(req, res, url, raw, ctx);
        const params = parseBody(raw, req.headers["content-type"]);
        const page = pages(req.method ?? "GET", url, params, ctx);
        if (page.redirect) {
          res.writeHead(page.status ?? 303, { location: page.redirect });
          res.end();
        } else {
          res.writeHead(page.status ?? 200, { "content-type": "text/html; charset=utf-8" });
          res.end(page.html ?? "");
        }
        if (req.method === "POST") scheduleSave();
      })
      .catch((error: unknown) => {
        if (res.headersSent) return;
        if (error instanceof StripeApiError) return json(res, error.status, error.toBody());
        console.error("Stripe sandbox: unexpected error", error);
        json(res, 500, { error: { type: "api_error", code: null, message: "The Stripe sandbox hit an unexpected error.", param: null } });
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(requestedPort, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  engine.baseUrl = url;

  // Customers without a test clock live on real time: run their renewals and cancellations as the wall clock passes.
  const ticker = setInterval(() => {
    try {
      engine.runUntil(realNow(), (sub) => sub.test_clock === null);
    } catch (error) {
      console.error("Stripe sandbox: real-time billing failed", error);
    }
  }, 5_000);
  ticker.unref();

  return {
    url,
    port,
    idle: () => deliveries.idle(),
    setThrottle: (pace) => (throttle = createThrottle(pace)),
    apiRequests: (method, path) =>
      method === undefined ? [...apiRequestCounts.values()].reduce((sum, n) => sum + n, 0) : (apiRequestCounts.get(`${method} ${path}`) ?? 0),
    close: async () => {
      clearInterval(ticker);
      await deliveries.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (stateFile) saveNow();
    },
  };
}


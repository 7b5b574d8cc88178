// What every route module shares: the request and route types, Stripe's list envelope and pagination, and the
// param readers several resources use (addresses, nullable strings, nested objects, string records).
import type { Engine, RequestContext } from "../engine";
import { invalidParameter, resourceMissing, unknownParameter } from "../errors";
import type { Params } from "../form";
import { toAddress } from "../objects";
import { int, obj, str } from "../params";
import { clone } from "../state";

export interface ApiRequest {
  method: string;
  path: string;
  params: Params;
  ctx: RequestContext;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export type Handler = (req: ApiRequest, id: string) => unknown;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export interface RouteContext {
  engine: Engine;
  /** Registers a handler for `METHOD /v1/path`, where `:id` matches one path segment. */
  route(method: string, path: string, handler: Handler): void;
  hooks: ApiHooks;
}

export interface ApiHooks {
  /** Webhook endpoints were created, changed or deleted. */
  endpointsChanged(): void;
}

export interface ListObject<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}

/** Stripe lists: newest first, `limit` (1..100, default 10), cursors `starting_after` / `ending_before`. */
export function listOf<T extends { id: string }>(items: T[], params: Params, url: string): ListObject<T> {
  const limit = int(params, "limit") ?? 10;
  if (limit < 1 || limit > 100) throw invalidParameter("limit", "Invalid limit: must be between 1 and 100");
  const inRange = createdFilter(params);
  const newestFirst = [...items].reverse().filter((item) => inRange((item as { created?: unknown }).created));
  let start = 0;
  let end = newestFirst.length;
  const after = str(params, "starting_after");
  const before = str(params, "ending_before");
  if (after) {
    const index = newestFirst.findIndex((item) => item.id === after);
    if (index === -1) throw resourceMissing("object", after, "starting_after");
    start = index + 1;
  }
  if (before) {
    const index = newestFirst.findIndex((item) => item.id === before);
    if (index === -1) throw resourceMissing("object", before, "ending_before");
    end = index;
    start = Math.max(0, end - limit);
  }
  const window = newestFirst.slice(start, end);
  return { object: "list", data: clone(window.slice(0, limit)), has_more: window.length > limit, url };
}

export const LIST_PARAMS = ["limit", "starting_after", "ending_before", "created"];

/** `created=<unix>` or `created[gt|gte|lt|lte]=<unix>`, as Stripe's list endpoints take it. */
function createdFilter(params: Params): (created: unknown) => boolean {
  const value = params.created;
  if (value === undefined || value === "") return () => true;
  if (typeof value === "string") {
    const exact = int(params, "created");
    return (created) => created === exact;
  }
  if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter("created", "Invalid created: must be an integer or a hash of gt, gte, lt, lte");
  const bounds: Array<[string, (a: number, b: number) => boolean]> = [
    ["gt", (a, b) => a > b],
    ["gte", (a, b) => a >= b],
    ["lt", (a, b) => a < b],
    ["lte", (a, b) => a <= b],
  ];
  for (const key of Object.keys(value)) if (!bounds.some(([name]) => name === key)) throw unknownParameter(`created[${key}]`);
  const checks = bounds.flatMap(([name, compare]) => {
    const bound = int(value, name, `created[${name}]`);
    return bound === undefined ? [] : [(created: number) => compare(created, bound)];
  });
  return (created) => typeof created === "number" && checks.every((check) => check(created));
}

// ---- params shared by several routes ---------------------------------------------------------------------------

export function readAddress(params: Params, key: string): ReturnType<typeof toAddress> | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (value === "") return null;
  const address = obj(params, key);
  if (!address) return null;
  checkNested(address, key, ["line1", "line2", "city", "state", "postal_code", "country"]);
  return toAddress({
    line1: str(address, "line1"),
    line2: str(address, "line2"),
    city: str(address, "city"),
    state: str(address, "state"),
    postal_code: str(address, "postal_code"),
    country: str(address, "country"),
  });
}

export function nullableStr(params: Params, key: string): string | null | undefined {
  const value = str(params, key);
  if (value === undefined) return undefined;
  return value === "" ? null : value;
}

export function checkNested(params: Params | undefined, key: string, allowed: string[]): void {
  if (!params) return;
  for (const name of Object.keys(params)) if (!allowed.includes(name)) throw unknownParameter(`${key}[${name}]`);
}

export function stringRecord(params: Params, key: string): Record<string, string> {
  const value = obj(params, key);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (typeof v !== "string") throw invalidParameter(`${key}[${k}]`, `Invalid string: ${key}[${k}]`);
    out[k] = v;
  }
  return out;
}


export function throwMissing(kind: string, id: string): never {
  throw resourceMissing(kind, id);
}

/** `trial_period_days`: 1 to 730, as Stripe allows; null when not given. */
export function readTrialDays(params: Params | undefined, name: string): number | null {
  if (!params) return null;
  const days = int(params, "trial_period_days", name);
  if (days === undefined) return null;
  if (days < 1 || days > 730) throw invalidParameter(name, `Invalid ${name}: must be between 1 and 730.`);
  return days;
}

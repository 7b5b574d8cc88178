// Typed reads of decoded request params. Every endpoint names the params it accepts, so an unknown one fails the way
// Stripe's API fails (400 parameter_unknown) instead of being silently ignored.
import { invalidParameter, missingParameter, unknownParameter } from "./errors";
import type { Param, Params } from "./form";

export function allowOnly(params: Params, allowed: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (key !== "expand" && !allowed.includes(key)) throw unknownParameter(key);
  }
}

export function str(params: Params, key: string, path = key): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidParameter(path, `Invalid string: ${path}`);
  return value;
}

export function requireStr(params: Params, key: string, path = key): string {
  const value = str(params, key, path);
  if (value === undefined || value === "") throw missingParameter(path);
  return value;
}

export function int(params: Params, key: string, path = key): number | undefined {
  const value = str(params, key, path);
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw invalidParameter(path, `Invalid integer: ${value}`);
  return parsed;
}

export function bool(params: Params, key: string, path = key): boolean | undefined {
  const value = str(params, key, path);
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalidParameter(path, `Invalid boolean: ${value}`);
}

export function obj(params: Params, key: string, path = key): Params | undefined {
  const value = params[key];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter(path, `Invalid object: ${path}`);
  return value;
}

export function list(params: Params, key: string, path = key): Param[] | undefined {
  const value = params[key];
  if (value === undefined || value === "") return undefined;
  if (!Array.isArray(value)) throw invalidParameter(path, `Invalid array: ${path}`);
  return value;
}

export function strings(params: Params, key: string): string[] | undefined {
  const values = list(params, key);
  return values?.map((v, i) => {
    if (typeof v !== "string") throw invalidParameter(`${key}[${i}]`, `Invalid string: ${key}[${i}]`);
    return v;
  });
}

export function objects(params: Params, key: string): Params[] | undefined {
  const values = list(params, key);
  return values?.map((v, i) => {
    if (typeof v !== "object" || Array.isArray(v)) throw invalidParameter(`${key}[${i}]`, `Invalid object: ${key}[${i}]`);
    return v;
  });
}

/** Stripe merges metadata on update: `""` for a key removes it, `metadata=""` clears everything. */
export function mergeMetadata(current: Record<string, string>, params: Params): Record<string, string> {
  const value = params.metadata;
  if (value === undefined) return current;
  if (value === "") return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter("metadata", "Invalid object: metadata");
  const next = { ...current };
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalidParameter(`metadata[${k}]`, "Metadata values must be strings");
    if (v === "") delete next[k];
    else next[k] = v;
  }
  return next;
}

export function expandPaths(params: Params): string[] {
  return strings(params, "expand") ?? [];
}

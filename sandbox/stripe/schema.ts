// Declarative checks of nested request params, the way Stripe's API refuses them before doing anything: an unknown
// key anywhere -> 400 parameter_unknown naming its full path (`features[customer_update][bogus]`), a value outside
// an enum -> 400 parameter_invalid ("Invalid x: must be one of a, b, or c"), a missing required nested field ->
// 400 parameter_missing. Route modules describe what they accept with these specs and validate before reading.
import { invalidParameter, missingParameter, unknownParameter } from "./errors";
import type { Param, Params } from "./form";

export type Spec =
  | { kind: "string" }
  | { kind: "boolean" }
  | { kind: "integer" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "object"; fields: Record<string, Spec>; required: readonly string[] }
  | { kind: "array"; of: Spec }
  | { kind: "metadata" }
  | { kind: "emptyable"; spec: Spec };

export const string: Spec = { kind: "string" };
export const boolean: Spec = { kind: "boolean" };
export const integer: Spec = { kind: "integer" };
export const metadata: Spec = { kind: "metadata" };
export const oneOf = (...values: string[]): Spec => ({ kind: "enum", values });
export const arrayOf = (of: Spec): Spec => ({ kind: "array", of });
/** `""` is accepted too (Stripe's `Emptyable`: clears the field on update). */
export const emptyable = (spec: Spec): Spec => ({ kind: "emptyable", spec });
export const object = (fields: Record<string, Spec>, required: readonly string[] = []): Spec => ({ kind: "object", fields, required });

/** "a", "a or b", "a, b, or c": how Stripe lists the allowed values of an enum. */
export function choices(values: readonly string[]): string {
  if (values.length <= 2) return values.join(" or ");
  return `${values.slice(0, -1).join(", ")}, or ${values.at(-1)}`;
}

/** Throws the error Stripe answers for the first thing in `value` that `spec` does not allow. */
export function validate(value: Param, spec: Spec, path: string): void {
  switch (spec.kind) {
    case "emptyable":
      if (value === "") return;
      return validate(value, spec.spec, path);
    case "string":
      if (typeof value !== "string") throw invalidParameter(path, `Invalid string: ${path}`);
      return;
    case "boolean":
      if (value !== "true" && value !== "false") throw invalidParameter(path, `Invalid boolean: ${typeof value === "string" ? value : path}`);
      return;
    case "integer":
      if (typeof value !== "string" || !/^-?\d+$/.test(value)) throw invalidParameter(path, `Invalid integer: ${typeof value === "string" ? value : path}`);
      return;
    case "enum":
      if (typeof value !== "string" || !spec.values.includes(value)) {
        throw invalidParameter(path, `Invalid ${path}: must be one of ${choices(spec.values)}`);
      }
      return;
    case "metadata":
      if (value === "") return;
      if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter(path, `Invalid object: ${path}`);
      for (const [key, item] of Object.entries(value)) {
        if (typeof item !== "string") throw invalidParameter(`${path}[${key}]`, "Metadata values must be strings");
      }
      return;
    case "array": {
      if (typeof value !== "object") throw invalidParameter(path, `Invalid array: ${path}`);
      // Form encoding sends `a[0]=x&a[1]=y`; keys that are not indices make it an object, which Stripe refuses.
      const items = Array.isArray(value) ? value : null;
      if (!items) throw invalidParameter(path, `Invalid array: ${path}`);
      items.forEach((item, i) => validate(item, spec.of, `${path}[${i}]`));
      return;
    }
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) throw invalidParameter(path, `Invalid object: ${path}`);
      validateFields(value, spec.fields, spec.required, path);
      return;
    }
  }
}

/** Checks the keys of `params` (top level when `path` is null, otherwise nested under it). */
export function validateFields(params: Params, fields: Record<string, Spec>, required: readonly string[] = [], path: string | null = null): void {
  const at = (key: string) => (path === null ? key : `${path}[${key}]`);
  for (const [key, value] of Object.entries(params)) {
    const spec = fields[key];
    if (!spec) throw unknownParameter(at(key));
    validate(value, spec, at(key));
  }
  for (const key of required) if (params[key] === undefined) throw missingParameter(at(key));
}

/** Validates each of `specs` that is present in `params` (their other keys are left to `allowOnly`). */
export function checkEach(params: Params, specs: Record<string, Spec>): void {
  for (const [key, spec] of Object.entries(specs)) check(params, key, spec);
}

/** Validates one optional nested param of `params` against `spec`, when present. */
export function check(params: Params, key: string, spec: Spec): void {
  const value = params[key];
  if (value !== undefined) validate(value, spec, key);
}

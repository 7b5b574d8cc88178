// Where to send someone after sign-in: only a path on this app's own origin. The value is resolved against
// APP_URL and must keep its origin; anything with a control character (tab, CR, LF, any C0 or DEL) or a
// backslash is refused, raw or percent-encoded, because browsers strip or reinterpret those (`/\t/evil.example`
// becomes `//evil.example`, `/\evil` becomes `//evil`) after we have checked the string.
import { env } from "./env";

const MAX_LENGTH = 2048;
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

function decodedForms(value: string): string[] | null {
  const forms = [value];
  let current = value;
  for (let i = 0; i < 3; i += 1) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return null;
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}

/** A same-origin path (with query and hash) to return to; anything else gives `fallback`. */
export function safeCallbackPath(value: unknown, fallback = "/account", base: string = env.APP_URL): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_LENGTH) return fallback;
  const forms = decodedForms(value);
  if (!forms) return fallback;
  for (const form of forms) {
    if (FORBIDDEN.test(form)) return fallback;
    if (!form.startsWith("/") || form.startsWith("//")) return fallback;
  }
  let resolved: URL;
  try {
    resolved = new URL(value, base);
  } catch {
    return fallback;
  }
  if (resolved.origin !== new URL(base).origin) return fallback;
  // Dot segments can leave a path like `//evil.example` (from `/..//evil.example`): protocol-relative, refused.
  if (resolved.pathname.startsWith("//")) return fallback;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}

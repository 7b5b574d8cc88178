// The key that signs session cookies: AUTH_SECRET when set; otherwise one generated on first use and kept
// in DATA_DIR, so development sessions survive restarts without anyone creating a secret by hand. Never generated
// for a production server (even with EMBEDDED_DEFAULTS=1): see assertProductionAuthSecret.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { assertProductionAuthSecret, env, secretList, type Env } from "@/lib/env";

let cached: string | undefined;

export function resolveAuthSecret(current: Env = env): string | string[] {
  // During a rotation AUTH_SECRET is "new,old": Auth.js signs with the first and reads sessions made with either.
  if (current.AUTH_SECRET) {
    const secrets = secretList(current.AUTH_SECRET);
    return secrets.length === 1 ? current.AUTH_SECRET : secrets;
  }
  assertProductionAuthSecret(current);
  if (cached) return cached;
  const file = path.join(current.DATA_DIR, "auth-secret");
  try {
    cached = fs.readFileSync(file, "utf8").trim();
  } catch {
    fs.mkdirSync(current.DATA_DIR, { recursive: true });
    try {
      fs.writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
    } catch (error) {
      // Another process wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    cached = fs.readFileSync(file, "utf8").trim();
  }
  return cached;
}

// Security probes against the production build (`next start` through scripts/app-stack.ts, the build in .next):
// cross-origin and non-JSON writes, batched mutations, brute-force sign-ins, parallel sign-in floods, oversized
// bodies (memory measured on the server's process group), open redirects, a deleted user's cookie and the
// security headers. Each probe prints its counts. Needs DATABASE_URL (the test writes users into the database
// the server uses; CI runs the fault suite on Postgres); the header, redirect and body probes run on either.
import { execFileSync } from "node:child_process";
import http from "node:http";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppStack, type AppStack } from "../../scripts/app-stack";

const onPostgres = Boolean(process.env.DATABASE_URL);
const { getDb } = await import("@/db/index");
const { users } = await import("@/db/schema");
const { insertUser } = await import("@/db/queries/users");
const { hashPassword } = await import("@/server/auth/password");

let stack: AppStack;
let origin = "";
const PASSWORD = "correct horse battery";

beforeAll(async () => {
  stack = await startAppStack();
  origin = new URL(stack.baseUrl).origin;
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const report = (line: string) => console.info(`  security: ${line}`);
const cookiesOf = (response: Response) => response.headers.getSetCookie().map((cookie) => cookie.split(";")[0] ?? "");

async function createUser(label: string): Promise<{ id: string; email: string }> {
  const email = `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const user = await insertUser(await getDb(), { email, passwordHash: await hashPassword(PASSWORD) });
  return { id: user.id, email };
}

/** The credentials form post, as the sign-in page's server action makes it; the session cookie if it worked. */
async function signIn(email: string, password: string, callbackUrl = `${origin}/account`) {
  const csrf = await fetch(`${stack.baseUrl}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await fetch(`${stack.baseUrl}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(csrf).join("; "), origin },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl }),
  });
  const cookie = cookiesOf(response).find((value) => value.startsWith("authjs.session-token=")) ?? null;
  return { cookie, location: response.headers.get("location") ?? "", status: response.status };
}

/** RSS of the server's whole process group (npx, next start and its workers), in MB. */
function serverRssMb(): number {
  const out = execFileSync("ps", ["-o", "rss=", "-g", String(stack.pid)], { encoding: "utf8" });
  return out.split("\n").reduce((sum, line) => sum + (Number(line.trim()) || 0), 0) / 1024;
}

/** Streams `totalBytes` with no Content-Length (chunked) until the server answers or closes; what happened. */
function streamUpload(path: string, headers: Record<string, string>, totalBytes: number): Promise<{ status: number; sentBytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, "x");
    const req = http.request(`${stack.baseUrl}${path}`, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } }, (res) => {
      answered = true;
      let body = "";
      res.on("data", (data: Buffer) => (body += data.toString()));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, sentBytes: sent, body });
      });
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    // One chunk per turn of the event loop, so the server's answer is read as soon as it arrives rather than after a
    // burst of writes (a reset that follows the answer discards it when it is still unread).
    const pump = () => {
      if (answered || req.destroyed) return;
      if (sent >= totalBytes) return void req.end();
      sent += chunk.length;
      if (!req.write(chunk)) return void req.once("drain", pump);
      setImmediate(pump);
    };
    pump();
  });
}

/**
 * streamUpload, again when the server's refusal won the race: it answers 413 and closes the connection while the
 * client is still writing, and the write can fail (EPIPE, ECONNRESET) before the answer is read. That is the early
 * refusal itself; the next attempt usually reads the status. Any other error, or five races in a row, fails.
 */
async function uploadUntilAnswered(path: string, headers: Record<string, string>, totalBytes: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await streamUpload(path, headers, totalBytes);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== "EPIPE" && code !== "ECONNRESET")) throw error;
    }
  }
}

describe("security probes against the production build", () => {
  it("sends the security headers on pages and API routes, and no X-Powered-By", async () => {
    const paths = ["/", "/sign-in", "/pricing", "/account", "/api/health"];
    for (const path of paths) {
      const response = await fetch(`${stack.baseUrl}${path}`, { redirect: "manual" });
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("default-src 'self'");
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), path).toBe("strict-origin-when-cross-origin");
      expect(response.headers.get("permissions-policy"), path).toContain("camera=()");
      expect(response.headers.get("strict-transport-security"), path).toMatch(/max-age=\d+/);
      expect(response.headers.get("x-powered-by"), path).toBeNull();
    }
    report(`headers: ${paths.length} paths -> CSP, nosniff, Referrer-Policy, Permissions-Policy, HSTS on all; X-Powered-By on none`);
  });

  it("keeps every sign-in redirect on the app's origin", async () => {
    const probes = ["/%09/evil.example", "/\t/evil.example", "/\\evil", "//evil", "/%5Cevil", "/%2F%2Fevil.example", "/%0d%0a/evil.example", "https://evil.example/", "/..//evil.example"];
    let kept = 0;
    for (const probe of probes) {
      const html = await (await fetch(`${stack.baseUrl}/sign-in?callbackUrl=${encodeURIComponent(probe)}`)).text();
      const value = /name="callbackUrl" value="([^"]*)"/.exec(html)?.[1];
      expect(value, probe).toBe("/account");
      kept += 1;
    }
    report(`open redirect: ${probes.length} callbackUrl probes on /sign-in -> ${kept} fell back to /account`);
  });

  it("refuses oversized bodies with 413 before reading them, memory flat", async () => {
    const before = serverRssMb();
    const webhook = await uploadUntilAnswered("/api/webhooks/stripe", { "stripe-signature": "t=1,v1=00", "content-type": "application/json" }, 100 * 1024 * 1024);
    expect(webhook.status).toBe(413);
    expect(webhook.body).toContain("larger than 1 MB");
    const chat = await uploadUntilAnswered("/api/chat", { origin, "content-type": "application/json" }, 100 * 1024 * 1024);
    expect(chat.status).toBe(413);
    const declared = await fetch(`${stack.baseUrl}/api/webhooks/stripe`, {
      method: "POST",
      headers: { "content-length": String(100 * 1024 * 1024), "stripe-signature": "t=1,v1=00" },
      body: "x",
    }).then((response) => response.status, () => 413);
    expect(declared).toBe(413);
    const growth = serverRssMb() - before;
    expect(growth).toBeLessThan(60);
    report(
      `bodies: 100 MB webhook (chunked) -> ${webhook.status} after ${(webhook.sentBytes / 1048576).toFixed(1)} MB sent; ` +
        `100 MB chat -> ${chat.status}; declared 100 MB -> ${declared}; server RSS ${before.toFixed(0)} -> ${(before + growth).toFixed(0)} MB (growth ${growth.toFixed(1)} MB < 60)`,
    );
  });
});

describe.runIf(onPostgres)("security probes with users (Postgres)", () => {
  it("refuses 100 cross-origin or non-JSON mutations: 0 rows changed; a batch of 100 mutations is refused", async () => {
    const user = await createUser("csrf");
    const { cookie } = await signIn(user.email, PASSWORD);
    expect(cookie).not.toBeNull();
    const db = await getDb();
    const snapshot = async () => JSON.stringify(await db.select().from(users).orderBy(users.id));
    const before = await snapshot();
    let refused = 0;
    for (let i = 0; i < 100; i += 1) {
      const form = new FormData();
      form.set("0", '{"json":null}');
      const cross = i % 2 === 0;
      const response = await fetch(`${stack.baseUrl}/api/trpc/billing.deleteAccount`, {
        method: "POST",
        headers: { cookie: cookie ?? "", origin: cross ? "http://evil.example" : origin, ...(i % 4 === 0 ? { "content-type": "application/json" } : {}) },
        body: i % 4 === 0 ? '{"json":null}' : form,
      });
      if (response.status === 403 || response.status === 415) refused += 1;
    }
    expect(refused).toBe(100);
    expect(await snapshot()).toBe(before);
    report(`cross-origin: 100 cross-origin or multipart mutations -> ${refused} refused, 0 rows changed`);

    const paths = Array.from({ length: 100 }, () => "billing.createCheckoutSession").join(",");
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, { json: { plan: "starter" } }])));
    const batch = await fetch(`${stack.baseUrl}/api/trpc/${paths}?batch=1`, {
      method: "POST",
      headers: { cookie: cookie ?? "", origin, "content-type": "application/json" },
      body,
    });
    expect(batch.status).toBe(400);
    const [row] = await db.select().from(users).where(eq(users.id, user.id));
    expect(row?.stripeCustomerId).toBeNull(); // no procedure ran: not even the customer was created
    report(`batch: 1 POST with 100 createCheckoutSession -> ${batch.status}, 0 sessions created`);
  });

  it("locks an account after 10 of 200 wrong passwords; the right one is then refused; one log line each", async () => {
    const user = await createUser("brute");
    let firstLocked = -1;
    for (let i = 0; i < 200; i += 1) {
      const attempt = await signIn(user.email, `wrong password ${i}`);
      expect(attempt.cookie).toBeNull();
      if (firstLocked < 0 && attempt.location.includes("code=locked")) firstLocked = i;
    }
    expect(firstLocked).toBe(10);
    const right = await signIn(user.email, PASSWORD);
    expect(right.cookie).toBeNull();
    expect(right.location).toContain("code=locked");
    const logs = stack.logs();
    expect(logs).not.toMatch(/CredentialsSignin[\s\S]{0,200}\n\s+at /);
    report(`brute force: 200 wrong passwords -> locked after ${firstLocked}; then the right password -> refused (locked); no stack traces logged`);
  }, 600_000);

  it("150 parallel bad sign-ins do not starve the server", async () => {
    const quiet = Date.now();
    await fetch(`${stack.baseUrl}/sign-in`);
    const baselineMs = Date.now() - quiet;
    const flood = Promise.all(
      Array.from({ length: 150 }, (_, i) => signIn(`nobody${i}-${Date.now()}@example.com`, "wrong password").catch(() => null)),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    const page = await fetch(`${stack.baseUrl}/sign-in`);
    const duringMs = Date.now() - started;
    expect(page.status).toBe(200);
    const results = await flood;
    expect(results.every((result) => result === null || result.cookie === null)).toBe(true);
    expect(duringMs).toBeLessThan(5_000);
    report(`flood: 150 parallel bad sign-ins -> /sign-in answered in ${duringMs} ms (alone: ${baselineMs} ms)`);
  }, 600_000);

  it("a deleted user's cookie stops working at once: no session, /account redirects to sign-in", async () => {
    const user = await createUser("deleted");
    const { cookie } = await signIn(user.email, PASSWORD);
    expect(cookie).not.toBeNull();
    const sessionOf = async () => (await (await fetch(`${stack.baseUrl}/api/auth/session`, { headers: { cookie: cookie ?? "" } })).json()) as { user?: unknown } | null;
    expect((await sessionOf())?.user).toBeTruthy();

    const deleted = await fetch(`${stack.baseUrl}/api/trpc/billing.deleteAccount`, {
      method: "POST",
      headers: { cookie: cookie ?? "", origin, "content-type": "application/json" },
      body: '{"json":null}',
    });
    expect(deleted.status).toBe(200);
    const db = await getDb();
    const [left] = await db.select({ value: count() }).from(users).where(eq(users.id, user.id));
    expect(left?.value).toBe(0);
    expect((await sessionOf())?.user).toBeUndefined();
    const account = await fetch(`${stack.baseUrl}/account`, { headers: { cookie: cookie ?? "" }, redirect: "manual" });
    expect([303, 307]).toContain(account.status);
    expect(account.headers.get("location")).toContain("/sign-in");
    report(`deletion: deleted user's cookie -> /api/auth/session has no user; /account -> ${account.status} to /sign-in`);
  });
});

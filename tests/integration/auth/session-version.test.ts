// Session revocation through the real Auth.js handlers: sign in with the credentials callback, read
// /api/auth/session with the cookie, then revoke (or delete the user) and read it again with the same cookie.
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { loadApp } from "../../support/load-app";

process.env.AUTH_SECRET ??= "integration-test-secret-0123456789abcdef";
const { getDb, authHandlers: handlers, signUp, revokeAllSessions, deleteUser } = await loadApp();

const base = "http://localhost:3000";
const cookiesOf = (response: Response) => response.headers.getSetCookie().map((cookie) => cookie.split(";")[0] ?? "");

async function signInResponse(email: string, password: string, callbackUrl = `${base}/account`): Promise<Response> {
  const csrf = await handlers.GET(new NextRequest(`${base}/api/auth/csrf`));
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  return handlers.POST(
    new NextRequest(`${base}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(csrf).join("; "), origin: base },
      body: new URLSearchParams({ csrfToken, email, password, callbackUrl }),
    }),
  );
}

async function signInCookie(email: string, password: string): Promise<string> {
  const csrf = await handlers.GET(new NextRequest(`${base}/api/auth/csrf`));
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await handlers.POST(
    new NextRequest(`${base}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(csrf).join("; "), origin: base },
      body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `${base}/account` }),
    }),
  );
  const session = cookiesOf(response).find((cookie) => cookie.startsWith("authjs.session-token="));
  if (!session) throw new Error(`no session cookie (status ${response.status})`);
  return session;
}

async function sessionOf(cookie: string): Promise<{ user?: { id?: string; email?: string } } | null> {
  const response = await handlers.GET(new NextRequest(`${base}/api/auth/session`, { headers: { cookie } }));
  expect(response.status).toBe(200);
  return (await response.json()) as { user?: { id?: string; email?: string } } | null;
}

// scrypt at N = 2^17 takes seconds per sign-in on a loaded machine.
describe("session version", { timeout: 240_000 }, () => {
  it("revokeAllSessions ends every existing session at once; a new sign-in works", async () => {
    const email = `revoke-${Date.now()}@example.com`;
    const user = await signUp({ email, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
    const first = await signInCookie(email, "correct horse battery");
    const second = await signInCookie(email, "correct horse battery");
    expect((await sessionOf(first))?.user?.id).toBe(user.id);

    await revokeAllSessions(user.id);
    expect((await sessionOf(first))?.user).toBeUndefined();
    expect((await sessionOf(second))?.user).toBeUndefined();

    const fresh = await signInCookie(email, "correct horse battery");
    expect((await sessionOf(fresh))?.user).toMatchObject({ id: user.id, email });
  });

  it("a deleted user's cookie returns no user", async () => {
    const email = `deleted-${Date.now()}@example.com`;
    const user = await signUp({ email, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
    const cookie = await signInCookie(email, "correct horse battery");
    expect((await sessionOf(cookie))?.user?.id).toBe(user.id);
    await (await getDb()).transaction((tx) => deleteUser(tx, user.id));
    expect((await sessionOf(cookie))?.user).toBeUndefined();
  });
});

describe("Auth.js redirects", { timeout: 240_000 }, () => {
  it("stay on APP_URL's origin whatever callbackUrl a sign-in carries", async () => {
    const email = `redirect-${Date.now()}@example.com`;
    await signUp({ email, password: "correct horse battery" }, { schedule: () => {}, tasks: [] });
    for (const callbackUrl of ["https://evil.example/", "/%09/evil.example", "/\\evil", "//evil.example", "/..//evil.example"]) {
      const response = await signInResponse(email, "correct horse battery", callbackUrl);
      const location = response.headers.get("location") ?? "";
      expect(new URL(location).origin, `${callbackUrl} -> ${location}`).toBe(base);
      expect(new URL(location).pathname.startsWith("//")).toBe(false);
    }
  });
});

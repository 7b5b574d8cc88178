// HTTP helpers for the bench: one request with its time to first byte, and an Auth.js sign-in.
import http from "node:http";

/**
 * Signs in through Auth.js's credentials callback, as the sign-in form does; returns the session cookie. `headers`
 * go with both requests (the two-server test pins them to one server with them).
 */
export async function signIn(base: string, email: string, password: string, headers: Record<string, string> = {}): Promise<string> {
  const csrf = await fetch(`${base}/api/auth/csrf`, { headers });
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const csrfCookies = csrf.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
  const response = await fetch(`${base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded", cookie: csrfCookies.join("; "), origin: new URL(base).origin },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `${base}/account` }),
  });
  const session = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0] ?? "").find((cookie) => cookie.startsWith("authjs.session-token="));
  if (!session) throw new Error(`signing in ${email} over HTTP gave no session cookie (status ${response.status})`);
  return session;
}

export function httpRequest(
  agent: http.Agent,
  method: "GET" | "POST",
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; ttfbMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method, agent, headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } : headers }, (res) => {
      const ttfbMs = performance.now() - t0;
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ttfbMs }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}


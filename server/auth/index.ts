// Auth.js (next-auth 5): JWT sessions, email + password always, GitHub and Google only when their variables
// are set. The adapter stores OAuth users and accounts; every created user passes the post-sign-up hook.
import "server-only";
import { DrizzleAdapter } from "@auth/drizzle-adapter";
import NextAuth, { AuthError, CredentialsSignin, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import { getDb } from "@/db/index";
import { accounts, sessions, users, verificationTokens } from "@/db/schema";
import { env } from "@/lib/env";
import { safeCallbackPath } from "@/lib/safe-redirect";
import { authenticateWithPassword, SignInThrottledError } from "./credentials";
import { markProviderVerified } from "./email-verification";
import { onAdapterCreatedUser } from "./post-sign-up";
import { resolveAuthSecret } from "./secret";
import { currentSessionVersion, isSessionCurrent } from "./session-version";
import { clientAddress } from "./throttle";

/** A throttled sign-in, as Auth.js reports it: its code reaches the sign-in action (and the URL of a form post). */
export class SignInLocked extends CredentialsSignin {
  code = "locked";
  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
  }
}

export const oauthProviders = [
  env.AUTH_GITHUB_ID && env.AUTH_GITHUB_SECRET
    ? { id: "github", name: "GitHub", provider: GitHub({ clientId: env.AUTH_GITHUB_ID, clientSecret: env.AUTH_GITHUB_SECRET }) }
    : null,
  env.AUTH_GOOGLE_ID && env.AUTH_GOOGLE_SECRET
    ? { id: "google", name: "Google", provider: Google({ clientId: env.AUTH_GOOGLE_ID, clientSecret: env.AUTH_GOOGLE_SECRET }) }
    : null,
].filter((entry) => entry !== null);

export const { handlers, auth, signIn, signOut } = NextAuth(async (): Promise<NextAuthConfig> => {
  const db = await getDb();
  return {
    secret: resolveAuthSecret(),
    // Self-hosted behind any proxy: the host header is trusted; APP_URL builds every URL we send elsewhere.
    trustHost: true,
    session: { strategy: "jwt" },
    adapter: DrizzleAdapter(db, {
      usersTable: users,
      accountsTable: accounts,
      sessionsTable: sessions,
      verificationTokensTable: verificationTokens,
    }),
    pages: { signIn: "/sign-in" },
    providers: [
      Credentials({
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        authorize: async (credentials, request) => {
          try {
            return await authenticateWithPassword(credentials, { db, address: clientAddress(request.headers) });
          } catch (error) {
            if (error instanceof SignInThrottledError) throw new SignInLocked(error.retryAfterSeconds, error.message);
            throw error;
          }
        },
      }),
      ...oauthProviders.map((entry) => entry.provider),
    ],
    logger: {
      // A refused sign-in (wrong password, locked) is routine: one line, no stack. Anything else keeps its stack.
      error(error) {
        if (error instanceof CredentialsSignin) {
          console.warn(`[auth] sign-in refused (${error.code})`);
          return;
        }
        const cause = error.cause as { err?: unknown } | undefined;
        console.error(`[auth][error] ${error instanceof AuthError ? error.type : error.name}: ${error.message}`, cause?.err ?? error);
      },
    },
    callbacks: {
      // Runs on sign-in (with `user`) and on every request that reads the session: the token carries the user's
      // session version, and a token whose user is gone or whose version was bumped (revokeAllSessions) is
      // dropped, so /api/auth/session answers no user and auth() returns null at once.
      async jwt({ token, user }) {
        if (user?.id) {
          const version = await currentSessionVersion(user.id, { db });
          if (version === null) return null;
          return { ...token, sub: user.id, sv: version };
        }
        if (!token.sub) return null;
        try {
          return (await isSessionCurrent(token.sub, token.sv, { db })) ? token : null;
        } catch (error) {
          // A database outage must not sign everyone out (a null here clears the cookie); while it lasts every
          // protected read and write fails on the same database anyway, so a revoked token can do nothing.
          console.error(`session version check failed; keeping the session: ${error instanceof Error ? error.message : String(error)}`);
          return token;
        }
      },
      // Every redirect Auth.js makes (OAuth return, sign-out) stays on APP_URL's origin (lib/safe-redirect.ts).
      redirect({ url }) {
        const appOrigin = new URL(env.APP_URL).origin;
        const path = url.startsWith(`${appOrigin}/`) ? url.slice(appOrigin.length) : url;
        return new URL(safeCallbackPath(path, "/"), appOrigin).toString();
      },
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub;
        return session;
      },
    },
    events: {
      createUser: ({ user }) => onAdapterCreatedUser(user),
      // Google says whether it verified the address; such users need no link (others get one after sign-up).
      async signIn({ user, account, profile }) {
        if (user.id && account?.type === "oidc" && profile?.email_verified === true && profile.email === user.email) {
          await markProviderVerified(user.id, { db });
        }
      },
    },
  };
});

/** The signed-in user's id, or null. */
export async function getSessionUserId(): Promise<string | null> {
  const session = await auth();
  return session?.user?.id ?? null;
}

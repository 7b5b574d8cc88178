// Auth.js (next-auth 5): JWT sessions, email + password always, GitHub and Google only when their variables
// are set. The adapter stores OAuth users and accounts; every created user passes the post-sign-up hook.
import "server-only";
import { DrizzleAdapter } from "@auth/drizzle-adapter";
import NextAuth, { type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import { getDb } from "@/db/index";
import { accounts, sessions, users, verificationTokens } from "@/db/schema";
import { env } from "@/lib/env";
import { authenticateWithPassword } from "./credentials";
import { markProviderVerified } from "./email-verification";
import { onAdapterCreatedUser } from "./post-sign-up";
import { resolveAuthSecret } from "./secret";
import { currentSessionVersion, isSessionCurrent } from "./session-version";

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
        authorize: (credentials) => authenticateWithPassword(credentials, { db }),
      }),
      ...oauthProviders.map((entry) => entry.provider),
    ],
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

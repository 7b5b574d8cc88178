import type { DefaultSession } from "next-auth";

declare module "next-auth" {
  interface Session {
    user: { id: string } & DefaultSession["user"];
  }
}

declare module "@auth/core/jwt" {
  interface JWT {
    /** The user's session version when the token was issued (see server/auth/session-version.ts). */
    sv?: number;
  }
}

// Builds the tRPC context for a request (fetch handler) or a server component (server-side caller).
import "server-only";
import { cache } from "react";
import { getDb } from "@/db/index";
import { getSessionUserId } from "@/server/auth";
import { createCaller } from "./root";
import type { Context } from "./trpc";

export async function createContext(): Promise<Context> {
  const [db, userId] = await Promise.all([getDb(), getSessionUserId()]);
  return { db, userId };
}

/** A server-side caller for server components; one context per request. */
export const getServerCaller = cache(async () => createCaller(await createContext()));

// Builds the tRPC context for a request (fetch handler) or a server component (server-side caller).
import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { getDb } from "@/db/index";
import { getSessionUserId } from "@/server/auth";
import { requestAppOrigin } from "@/server/http/request-guards";
import { createCaller } from "./root";
import type { Context } from "./trpc";

export async function createContext(): Promise<Context> {
  const [db, userId, appUrl] = await Promise.all([getDb(), getSessionUserId(), pageAppUrl()]);
  return { db, userId, ...(appUrl ? { appUrl } : {}) };
}

/** The app origin of the page making this request (see Context.appUrl); undefined outside a request. */
async function pageAppUrl(): Promise<string | undefined> {
  try {
    return requestAppOrigin(await headers()) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A server-side caller for server components; one context per request. */
export const getServerCaller = cache(async () => createCaller(await createContext()));

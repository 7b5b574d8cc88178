// The signed-in user and what they owe, asked once per page load and shared by the header and the payment banner
// (sign-in and sign-out reload the page, so one answer per load is enough).
import { getTrpcClient, type RouterOutputs } from "@/lib/trpc/client";

export type SessionAnswer = RouterOutputs["account"]["session"];

let pending: Promise<SessionAnswer> | null = null;

export function loadSession(): Promise<SessionAnswer> {
  pending ??= getTrpcClient()
    .account.session.query()
    .catch((error: unknown) => {
      // A failed answer is not kept: the next caller asks again.
      pending = null;
      throw error;
    });
  return pending;
}

import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { signInUrl } from "@/lib/auth-redirect";
import { getServerCaller } from "@/server/api/context";
import { getSessionUserId } from "@/server/auth";
import { chatModels } from "@/lib/chat-models";
import { syncCreditPackAfterCheckout, type CreditPackOutcome } from "@/server/billing/credit-packs";
import { getPlan } from "@/server/billing/plans";
import { describeChatModel } from "@/server/chat/models";
import { VerifyEmailNotice } from "../_components/email-forms";
import { SAVED_CHAT_ID } from "./chat-id";
import { ChatScreen } from "./chat-screen";

export const metadata: Metadata = { title: "Chat" };

type SearchParams = Promise<{ c?: string | string[]; credits?: string | string[]; session_id?: string | string[] }>;

export default async function ChatPage({ searchParams }: { searchParams: SearchParams }) {
  const userId = await getSessionUserId();
  const { c, credits, session_id: sessionId } = await searchParams;
  if (!userId) redirect(signInUrl(typeof c === "string" && SAVED_CHAT_ID.test(c) ? `/chat?c=${c}` : "/chat"));
  // Back from buying a credit pack: grant it now rather than wait for the webhook (either grants it once).
  const bought: CreditPackOutcome | null =
    credits === "success" && typeof sessionId === "string"
      ? await syncCreditPackAfterCheckout(userId, sessionId).catch((error: unknown) => {
          console.error("credit pack return sync failed; the webhook will grant it", error);
          return null;
        })
      : null;
  // Read the plan and budget here so the first paint already shows the right state (meter, or the 402/429 panel).
  // If the budget store is unreachable the page still renders and the browser asks again.
  const caller = await getServerCaller();
  const billing = await caller.billing.status().catch((error: unknown) => {
    console.error("chat page: billing status unavailable; the browser will retry", error);
    return undefined;
  });
  // The chat itself refuses an unconfirmed address (403); the notice says why and offers a new link.
  const me = await caller.account.me().catch(() => null);
  // The plan's models for the picker (default first), each with what answers for it; without a plan, the default's.
  const included = getPlan(billing?.active ? billing.planId : null).models;
  const models = (included.length > 0 ? included : (["small"] as const)).map((id) => ({
    id,
    name: chatModels[id].displayName,
    description: chatModels[id].description,
    answeredBy: describeChatModel(undefined, id),
  }));
  // The saved chats for the sidebar, and the one the URL names (/chat?c=<id>), so a reload reopens it at once. A
  // list that cannot be read leaves the sidebar to the browser's own query; a missing chat is said so, not thrown.
  const savedChats = await caller.chats.list().catch((error: unknown) => {
    console.error("chat page: saved chats unavailable; the browser will retry", error);
    return undefined;
  });
  const requestedId = typeof c === "string" ? c : null;
  const openChat = requestedId && SAVED_CHAT_ID.test(requestedId) ? await caller.chats.get({ id: requestedId }).catch(() => null) : null;
  const chat = (
    <ChatScreen
      models={models}
      initialBilling={billing}
      initialChats={savedChats}
      initialChat={openChat}
      missingChatId={requestedId && !openChat ? requestedId : null}
    />
  );
  const notice =
    bought?.outcome === "pack-granted" ? (
      <p role="status" className="rounded-lg border border-green-200 bg-green-50 px-4 py-3 text-sm text-green-900" data-testid="credits-added">
        Thank you! Your credit pack was added: its tokens are used once this period&apos;s budget runs out.
      </p>
    ) : credits === "success" && (!bought || bought.outcome === "pack-unpaid") ? (
      <p role="status" className="rounded-lg border border-stone-200 bg-stone-50 px-4 py-3 text-sm text-stone-700" data-testid="credits-pending">
        Thank you! Your credit pack is added as soon as Stripe confirms the payment.
      </p>
    ) : null;
  const unverified = me && !me.emailVerified;
  return !notice && !unverified ? chat : (
    <div className="space-y-4">
      {unverified ? <VerifyEmailNotice email={me.email} /> : null}
      {notice}
      {chat}
    </div>
  );
}

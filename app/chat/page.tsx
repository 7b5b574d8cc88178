import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { signInUrl } from "@/lib/auth-redirect";
import { getServerCaller } from "@/server/api/context";
import { getSessionUserId } from "@/server/auth";
import { chatModels } from "@/lib/chat-models";
import { getPlan } from "@/server/billing/plans";
import { describeChatModel } from "@/server/chat/models";
import { VerifyEmailNotice } from "../_components/email-forms";
import { ChatView } from "./chat-view";

export const metadata: Metadata = { title: "Chat" };

export default async function ChatPage() {
  const userId = await getSessionUserId();
  if (!userId) redirect(signInUrl("/chat"));
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
  const chat = <ChatView models={models} initialBilling={billing} />;
  return !me || me.emailVerified ? chat : (
    <div className="space-y-4">
      <VerifyEmailNotice email={me.email} />
      {chat}
    </div>
  );
}

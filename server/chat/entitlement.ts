// What the chat needs from billing: the user's entitlement, and a way to restore a missing budget.
// Billing owns both answers; the chat only reads them.
export { getChatEntitlement, type ChatEntitlement } from "@/server/billing/entitlement";
export { restoreBudgetFromStripe } from "@/server/billing/restore-budget";

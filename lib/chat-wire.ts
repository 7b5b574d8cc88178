// The chat endpoint's wire format, shared by the route (server/chat/chat-request.ts) and the /chat page: the metadata
// on each finished answer and the JSON bodies of its refusals. Plain zod and types only, so client components import it.
import type { UIMessage } from "ai";
import { z } from "zod";

/** Sent with the finish of each answer, after the budget is settled. */
export const chatMessageMetadataSchema = z.object({
  /** Tokens charged for this answer (prompt and reply). */
  tokensUsed: z.number().int().nonnegative(),
  /** The user's remaining tokens right after this answer was charged. */
  tokensRemaining: z.number().int().nonnegative(),
  /** The model (lib/chat-models id) that answered; its weights decided the charge. */
  model: z.string().optional(),
  /** Metered overage (BILLING_OVERAGE=1), on answers past the budget: this answer's overage tokens, the period's, and the cap. */
  overageTokens: z.number().int().nonnegative().optional(),
  overageUsed: z.number().int().nonnegative().optional(),
  overageCapTokens: z.number().int().nonnegative().optional(),
});

export type ChatMessageMetadata = z.infer<typeof chatMessageMetadataSchema>;

export type ChatUIMessage = UIMessage<ChatMessageMetadata>;

/**
 * The JSON body of every non-streaming reply from POST /api/chat. Parse it with this schema on the page:
 * 402 carries where to subscribe (or, for a failed payment, where to pay), 429 when the budget resets (ISO date, or null when unknown).
 */
export const chatErrorBodySchema = z.object({
  error: z.discriminatedUnion("code", [
    // Without a plan: `pricingUrl`. A past-due plan after its grace: the open invoice to pay and the account page.
    z.object({
      code: z.literal("PAYMENT_REQUIRED"),
      message: z.string(),
      pricingUrl: z.string().optional(),
      invoiceUrl: z.string().nullable().optional(),
      accountUrl: z.string().optional(),
    }),
    z.object({
      code: z.literal("TOO_MANY_REQUESTS"),
      message: z.string(),
      tokensRemaining: z.number(),
      resetsAt: z.iso.datetime().nullable(),
    }),
    z.object({
      // FORBIDDEN: the email address is not confirmed yet (see requireVerifiedEmail).
      // NOT_FOUND: the chat id is not one of the caller's chats.
      code: z.enum(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR"]),
      message: z.string(),
    }),
  ]),
});

export type ChatErrorBody = z.infer<typeof chatErrorBodySchema>;
export type PaymentRequiredBody = Extract<ChatErrorBody["error"], { code: "PAYMENT_REQUIRED" }>;
export type TooManyRequestsBody = Extract<ChatErrorBody["error"], { code: "TOO_MANY_REQUESTS" }>;

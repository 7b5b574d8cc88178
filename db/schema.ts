// The whole database: the Auth.js tables, the user's billing columns (a copy of Stripe's truth written only by
// syncSubscriptionFromStripe, plus the refill and read-stamp bookkeeping of that sync), the processed Stripe events,
// the mail tables (single-use auth tokens, the email outbox), saved chats and their messages, bought credit packs,
// and the sequence that orders Stripe reads. Column names in SQL are snake_case; the Auth.js adapter reads the
// TypeScript property names.
import { bigint, boolean, index, integer, jsonb, pgSequence, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const users = pgTable("users", {
  id: text("id")
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID()),
  name: text("name"),
  email: text("email").notNull().unique(),
  emailVerified: timestamptz("email_verified"),
  image: text("image"),
  /** scrypt hash as `scrypt$N$r$p$salt$hash`; null for users who only sign in through OAuth. */
  passwordHash: text("password_hash"),
  createdAt: timestamptz("created_at").notNull().defaultNow(),

  /** The user's Stripe customer (cus_...), linked once by ensureStripeCustomer; null until then. */
  stripeCustomerId: text("stripe_customer_id").unique(),
  /** The subscription that decides access (the newest live one, else the newest), null on the free tier. */
  stripeSubscriptionId: text("stripe_subscription_id"),
  /** The price of that subscription's first item (price_...). */
  stripePriceId: text("stripe_price_id"),
  /** When the current period ends: the subscription item's current_period_end. */
  stripeCurrentPeriodEnd: timestamptz("stripe_current_period_end"),
  /** The subscription's status is one the plans table counts as active (and it has not ended). */
  planActive: boolean("plan_active").notNull().default(false),
  /** Access ends here: the period end (or cancel_at) plus the grace for late renewals. */
  planExpires: timestamptz("plan_expires"),
  /** The Hourglass plan of the current subscription (from the price's lookup key), null on the free tier. */
  planId: text("plan_id"),
  /** Stripe's subscription status as read (active, past_due, canceled, ...), null without a subscription. */
  subscriptionStatus: text("subscription_status"),
  /** When a scheduled cancellation takes effect; null when the subscription renews. */
  cancelAt: timestamptz("cancel_at"),
  /**
   * A plan change scheduled for the period end (a portal downgrade: a Stripe subscription schedule): the plan it
   * switches to and when. Both null when none is scheduled.
   */
  scheduledPlanId: text("scheduled_plan_id"),
  scheduledPlanAt: timestamptz("scheduled_plan_at"),
  /** The price's billing interval (`month`, `year`), null without a subscription. */
  billingInterval: text("billing_interval"),
  /**
   * The subscription's billing_cycle_anchor: a yearly plan's budget refills every month on this day and time (clamped
   * to the month's last day), derived when a chat reserves (see server/billing/budget-window).
   */
  billingAnchor: timestamptz("billing_anchor"),
  /** When the subscription's trial ends (or ended); null for a subscription that never had one. */
  trialEndsAt: timestamptz("trial_ends_at"),
  /**
   * Test mode only: the frozen time of the Stripe test clock the customer lives on, as its last
   * `test_helpers.test_clock.ready` event said (it only moves forward). A yearly plan's monthly window is found at
   * this time when it is ahead of the wall clock, so advancing a test clock a month refills the budget as the month
   * passing would. Always null in live mode (live customers have no test clock).
   */
  stripeTestClockTime: timestamptz("stripe_test_clock_time"),
  /**
   * The lookup key of the subscription's metered overage price (BILLING_OVERAGE=1), null without a metered item: what
   * overage is billed at. A subscription started before overage was on has none, so it gets no overage.
   */
  stripeOverageLookupKey: text("stripe_overage_lookup_key"),
  /**
   * A failed payment (the subscription is past_due or unpaid with an open invoice): when the invoice was finalized,
   * which starts the BILLING_GRACE_SECONDS chat keeps working through, and the invoice's hosted page, where it can
   * be paid. Both null while nothing is owed.
   */
  pastDueSince: timestamptz("past_due_since"),
  openInvoiceUrl: text("open_invoice_url"),
  /**
   * The period end of the last token budget refill, written as soon as the budget store applied it: later syncs
   * about the same period skip the store (see syncSubscriptionFromStripe).
   */
  budgetRefilledFor: timestamptz("budget_refilled_for"),
  /** The user wants the budget 80% / 100% emails (set in /account); every other email is transactional. */
  budgetEmails: boolean("budget_emails").notNull().default(true),
  /**
   * Metered overage (BILLING_OVERAGE=1): the most the user lets a month's overage cost, in cents, set in /account.
   * 0: no overage, chat stops at the budget (the default).
   */
  overageCapCents: integer("overage_cap_cents").notNull().default(0),
  /**
   * The stamp (from stripe_read_stamps, taken before the request went out) of the Stripe read the billing columns
   * were written from; a sync writes only when its own read's stamp is higher, so an older read never overwrites a
   * newer one. Null until the first sync.
   */
  stripeReadStamp: bigint("stripe_read_stamp", { mode: "number" }),
  /**
   * Carried in every session token and compared on each request: bumping it (revokeAllSessions) signs the user
   * out everywhere at once, e.g. after a password reset.
   */
  sessionVersion: integer("session_version").notNull().default(0),
});

/** Stamps for Stripe reads: increasing across every server process, so any two reads of one customer are ordered. */
export const stripeReadStamps = pgSequence("stripe_read_stamps");

export const accounts = pgTable(
  "accounts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").$type<"oauth" | "oidc" | "email" | "webauthn">().notNull(),
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    refresh_token: text("refresh_token"),
    access_token: text("access_token"),
    expires_at: integer("expires_at"),
    token_type: text("token_type"),
    scope: text("scope"),
    id_token: text("id_token"),
    session_state: text("session_state"),
  },
  (table) => [primaryKey({ columns: [table.provider, table.providerAccountId] }), index("accounts_user_id_idx").on(table.userId)],
);

export const sessions = pgTable("sessions", {
  sessionToken: text("session_token").primaryKey(),
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  expires: timestamptz("expires").notNull(),
});

export const verificationTokens = pgTable(
  "verification_tokens",
  {
    identifier: text("identifier").notNull(),
    token: text("token").notNull(),
    expires: timestamptz("expires").notNull(),
  },
  (table) => [primaryKey({ columns: [table.identifier, table.token] })],
);

/** One row per Stripe event applied; written in the same transaction as the state the event caused. */
export const stripeEvents = pgTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  /** The Stripe customer the event concerned, when there was one (for support and replays). */
  customerId: text("customer_id"),
  receivedAt: timestamptz("received_at").notNull().defaultNow(),
  processedAt: timestamptz("processed_at"),
});

/**
 * Subscriptions the sync retired because the customer already had a live one (two Checkout pages both paid):
 * canceled at once and refunded in full. One row per retired subscription, for support and the account page.
 */
export const duplicateSubscriptions = pgTable("duplicate_subscriptions", {
  subscriptionId: text("subscription_id").primaryKey(),
  userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
  customerId: text("customer_id").notNull(),
  keptSubscriptionId: text("kept_subscription_id").notNull(),
  refundedCents: integer("refunded_cents").notNull(),
  reason: text("reason").notNull(),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});

/**
 * Single-use links sent by email (verify-email, reset-password). Only a SHA-256 hash of the token is stored;
 * using one deletes its row, so a link works once.
 */
export const authTokens = pgTable(
  "auth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    purpose: text("purpose").$type<"verify-email" | "reset-password">().notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamptz("expires_at").notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (table) => [index("auth_tokens_user_id_idx").on(table.userId, table.purpose)],
);

/**
 * Emails to send, written in the transaction that decided them. `key` is unique, so a replayed or reordered
 * event cannot enqueue an email twice; a deliverer sends due rows after commit and retries with backoff.
 */
export const emailOutbox = pgTable(
  "email_outbox",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    key: text("key").notNull().unique(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    toAddress: text("to_address").notNull(),
    template: text("template").notNull(),
    props: jsonb("props").$type<Record<string, unknown>>().notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    /** Due at; a deliverer that takes a row moves it ahead by a lease, so a crashed delivery is retried. */
    nextAttemptAt: timestamptz("next_attempt_at").notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    sentAt: timestamptz("sent_at"),
    /** The provider refused it for good (a 5xx answer); kept for support, never retried. */
    failedAt: timestamptz("failed_at"),
  },
  (table) => [index("email_outbox_due_idx").on(table.nextAttemptAt)],
);

/**
 * Overage meter events waiting for Stripe: one row per answer that used tokens past the budget, written when the
 * answer settles and sent by the meter deliverer until Stripe accepts it. The id is the chat request id, which is also
 * the event's `identifier`, so a resend after a lost answer is counted once by Stripe.
 */
export const meterEventOutbox = pgTable(
  "meter_event_outbox",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    eventName: text("event_name").notNull(),
    /** Overage tokens the answer used: the event's value. */
    tokens: integer("tokens").notNull(),
    /** When the answer was given: the event's timestamp, so it lands in the period it was used in. */
    occurredAt: timestamptz("occurred_at").notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    nextAttemptAt: timestamptz("next_attempt_at").notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    sentAt: timestamptz("sent_at"),
    /** Stripe refused it for good (an unknown customer, a timestamp past Stripe's 35 days); kept for support. */
    failedAt: timestamptz("failed_at"),
  },
  (table) => [index("meter_event_outbox_due_idx").on(table.nextAttemptAt)],
);

/** A saved conversation; its id is the chat page's (useChat's) id, owned by one user. */
export const chats = pgTable(
  "chats",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (table) => [index("chats_user_updated_idx").on(table.userId, table.updatedAt)],
);

/**
 * One message of a saved chat. An assistant message records what answered and what it cost: the model id
 * (lib/chat-models), its input/output/cached-input tokens and the budget tokens charged, which usage sums.
 */
export const chatMessages = pgTable(
  "chat_messages",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    chatId: text("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role").$type<"user" | "assistant">().notNull(),
    text: text("text").notNull(),
    model: text("model"),
    inputTokens: integer("input_tokens"),
    outputTokens: integer("output_tokens"),
    cachedInputTokens: integer("cached_input_tokens"),
    charge: integer("charge"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (table) => [index("chat_messages_chat_idx").on(table.chatId, table.createdAt), index("chat_messages_user_idx").on(table.userId, table.createdAt)],
);

/**
 * A bought credit pack, one row per paid one-time Checkout: keyed by its PaymentIntent, which is also the pack's id in
 * the budget store, so a refund of that payment finds it. The row is written before the store is asked to grant the
 * tokens (`grantedAt` records when it was; the store's grant is once per pack, and none after a revoke); `refundedAt`
 * marks a refunded pack, whose unspent tokens were revoked.
 */
export const creditPacks = pgTable(
  "credit_packs",
  {
    paymentIntentId: text("payment_intent_id").primaryKey(),
    checkoutSessionId: text("checkout_session_id").notNull().unique(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The plans table's pack id (server/billing/plans creditPacks). */
    packId: text("pack_id").notNull(),
    tokens: integer("tokens").notNull(),
    amountCents: integer("amount_cents").notNull(),
    currency: text("currency").notNull(),
    purchasedAt: timestamptz("purchased_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    grantedAt: timestamptz("granted_at"),
    refundedAt: timestamptz("refunded_at"),
  },
  (table) => [index("credit_packs_user_idx").on(table.userId, table.purchasedAt)],
);

/**
 * Email addresses that have had a subscription's trial, or any subscription, kept past the account's deletion so a
 * new account with the same address gets no second trial. Only a SHA-256 of the normalized address is kept (lower
 * case, a `+tag` dropped): enough to recognise the address again, not to read it back.
 */
export const trialClaims = pgTable("trial_claims", {
  emailHash: text("email_hash").primaryKey(),
  claimedAt: timestamptz("claimed_at").notNull().defaultNow(),
});

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type StripeEventRow = typeof stripeEvents.$inferSelect;
export type EmailOutboxRow = typeof emailOutbox.$inferSelect;
export type MeterEventOutboxRow = typeof meterEventOutbox.$inferSelect;
export type DuplicateSubscriptionRow = typeof duplicateSubscriptions.$inferSelect;
export type ChatRow = typeof chats.$inferSelect;
export type ChatMessageRow = typeof chatMessages.$inferSelect;
export type CreditPackRow = typeof creditPacks.$inferSelect;

// The app as integration tests use it, in one import. App modules read the environment when they load, so a test
// calls this only after it has pointed the environment where it wants (a sandbox harness, SMTP_URL, AUTH_SECRET):
//   const harness = await startStripeHarness();
//   const { getDb, signUp, syncSubscriptionFromStripe } = await loadApp();
export async function loadApp() {
  const [db, schema, userQueries, billingQueries, env, format, errors] = await Promise.all([
    import("@/db/index"),
    import("@/db/schema"),
    import("@/db/queries/users"),
    import("@/db/queries/billing"),
    import("@/lib/env"),
    import("@/lib/format"),
    import("@/server/errors"),
  ]);
  const [auth, signUp, postSignUp, credentials, sessionVersion, throttle, passwordPolicy, emailVerification, passwordReset] = await Promise.all([
    import("@/server/auth"),
    import("@/server/auth/sign-up"),
    import("@/server/auth/post-sign-up"),
    import("@/server/auth/credentials"),
    import("@/server/auth/session-version"),
    import("@/server/auth/throttle"),
    import("@/server/auth/password-policy"),
    import("@/server/auth/email-verification"),
    import("@/server/auth/password-reset"),
  ]);
  const [customers, checkout, checkoutReturn, portal, deleteAccount, entitlement, plans, sync, status, restore, webhook, billingEmails, budgetEmails] =
    await Promise.all([
      import("@/server/billing/customers"),
      import("@/server/billing/checkout"),
      import("@/server/billing/checkout-return"),
      import("@/server/billing/portal"),
      import("@/server/billing/delete-account"),
      import("@/server/billing/entitlement"),
      import("@/server/billing/plans"),
      import("@/server/billing/sync-subscription"),
      import("@/server/billing/billing-status"),
      import("@/server/billing/restore-budget"),
      import("@/server/billing/webhooks/process-webhook"),
      import("@/server/billing/billing-emails"),
      import("@/server/billing/budget-emails"),
    ]);
  const [usage, chat, outbox, transport, root, trpcHttp] = await Promise.all([
    import("@/server/usage"),
    import("@/server/chat/chat-request"),
    import("@/server/mail/outbox"),
    import("@/server/mail/transport"),
    import("@/server/api/root"),
    import("@/server/api/http"),
  ]);
  return {
    // Database and leaves.
    getDb: db.getDb,
    closeDatabase: db.closeDatabase,
    users: schema.users,
    stripeEvents: schema.stripeEvents,
    emailOutbox: schema.emailOutbox,
    findUserById: userQueries.findUserById,
    deleteUser: billingQueries.deleteUser,
    env: env.env,
    formatDate: format.formatDate,
    errorResponse: errors.errorResponse,
    // Accounts.
    authHandlers: auth.handlers,
    signUp: signUp.signUp,
    postSignUpTasks: postSignUp.postSignUpTasks,
    authenticateWithPassword: credentials.authenticateWithPassword,
    currentSessionVersion: sessionVersion.currentSessionVersion,
    revokeAllSessions: sessionVersion.revokeAllSessions,
    throttle,
    passwordProblem: passwordPolicy.passwordProblem,
    verifyEmail: emailVerification.verifyEmail,
    resendVerificationEmail: emailVerification.resendVerificationEmail,
    requestPasswordReset: passwordReset.requestPasswordReset,
    resetPassword: passwordReset.resetPassword,
    FORGOT_PASSWORD_ANSWER: passwordReset.FORGOT_PASSWORD_ANSWER,
    // Billing.
    ensureStripeCustomer: customers.ensureStripeCustomer,
    createCheckoutSession: checkout.createCheckoutSession,
    syncAfterCheckout: checkoutReturn.syncAfterCheckout,
    createPortalSession: portal.createPortalSession,
    deleteAccount: deleteAccount.deleteAccount,
    getChatEntitlement: entitlement.getChatEntitlement,
    plans: plans.plans,
    subscriptionState: sync.subscriptionState,
    syncSubscriptionFromStripe: sync.syncSubscriptionFromStripe,
    getBillingStatus: status.getBillingStatus,
    restoreBudgetFromStripe: restore.restoreBudgetFromStripe,
    processStripeWebhook: webhook.processStripeWebhook,
    enqueueBillingEmails: billingEmails.enqueueBillingEmails,
    enqueueBudgetAlert: budgetEmails.enqueueBudgetAlert,
    withBudgetAlerts: budgetEmails.withBudgetAlerts,
    // Budget, chat, mail and the API.
    getBudgetStore: usage.getBudgetStore,
    createMemoryBudgetStore: usage.createMemoryBudgetStore,
    startChat: chat.startChat,
    deliverDueEmails: outbox.deliverDueEmails,
    createSmtpMailer: transport.createSmtpMailer,
    createCaller: root.createCaller,
    handleTrpcPost: trpcHttp.handleTrpcPost,
  };
}

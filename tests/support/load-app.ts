// The app as integration tests use it, in one import. App modules read the environment when they load, so tests
// call this only after the harness (startStripeHarness) has pointed the environment at its sandbox:
//   const harness = await startStripeHarness();
//   const { getDb, signUp, syncSubscriptionFromStripe } = await loadApp();
export async function loadApp() {
  const [db, users, schema, signUp, postSignUp, customers, checkout, checkoutReturn, portal, deleteAccount, entitlement, plans, sync, status, restore, webhook, usage, root] =
    await Promise.all([
      import("@/db/index"),
      import("@/db/queries/users"),
      import("@/db/schema"),
      import("@/server/auth/sign-up"),
      import("@/server/auth/post-sign-up"),
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
      import("@/server/usage"),
      import("@/server/api/root"),
    ]);
  return {
    getDb: db.getDb,
    findUserById: users.findUserById,
    users: schema.users,
    stripeEvents: schema.stripeEvents,
    signUp: signUp.signUp,
    postSignUpTasks: postSignUp.postSignUpTasks,
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
    getBudgetStore: usage.getBudgetStore,
    createMemoryBudgetStore: usage.createMemoryBudgetStore,
    createCaller: root.createCaller,
  };
}

// Fields Stripe's fixture file (fixtures3.json) still shows on an object but the pinned API version dropped. The
// fixture test skips them; the contract test proves each is absent from the pinned `stripe` types.
export const DROPPED_BY_PINNED_API: Record<string, readonly string[]> = {
  // Moved to parent.subscription_details.subscription.
  invoice: ["subscription"],
};

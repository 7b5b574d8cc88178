// The local sandbox's demo promotion code: LAUNCH20, 20% off the first invoice, so a developer can try a discount on
// Checkout straight away. Created only against the sandbox (`npm run dev`, `npm run stripe:setup` without a key),
// never in a real Stripe account; safe to run on every start (found again by coupon id and code).
import Stripe from "stripe";

export const DEMO_PROMOTION_CODE = "LAUNCH20";

export async function ensureDemoPromotionCode(stripe: Stripe): Promise<{ coupon: string; promotionCode: string; created: boolean }> {
  let created = false;
  const coupon = await stripe.coupons.retrieve(DEMO_PROMOTION_CODE).catch(async (error: unknown) => {
    if (!(error instanceof Stripe.errors.StripeInvalidRequestError) || error.statusCode !== 404) throw error;
    created = true;
    return stripe.coupons.create(
      { id: DEMO_PROMOTION_CODE, percent_off: 20, duration: "once", name: "Launch: 20% off the first month" },
      { idempotencyKey: `hourglass-demo-coupon:${DEMO_PROMOTION_CODE}` },
    );
  });
  const existing = (await stripe.promotionCodes.list({ code: DEMO_PROMOTION_CODE, active: true, limit: 1 })).data[0];
  if (existing) return { coupon: coupon.id, promotionCode: existing.id, created };
  const promo = await stripe.promotionCodes.create(
    { promotion: { type: "coupon", coupon: coupon.id }, code: DEMO_PROMOTION_CODE },
    { idempotencyKey: `hourglass-demo-promotion-code:${DEMO_PROMOTION_CODE}:${coupon.id}` },
  );
  return { coupon: coupon.id, promotionCode: promo.id, created: true };
}

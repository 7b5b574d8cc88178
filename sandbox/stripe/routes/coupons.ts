// Coupons (percent or amount off; once, repeating, forever), promotion codes pointing at a coupon, and the one tax
// rate the sandbox's automatic tax uses. Validated as Stripe validates them, with its parameter names in every error.
import type Stripe from "stripe";
import { couponObject, promotionCodeObject, refreshCoupon, sandboxTaxRate, SANDBOX_TAX_RATE_ID } from "../discounts";
import { StripeApiError, invalidParameter, invalidRequest, missingParameter, resourceMissing } from "../errors";
import type { Params } from "../form";
import { allowOnly, bool, int, mergeMetadata, obj, requireStr, str } from "../params";
import { arrayOf, boolean, checkEach, emptyable, integer, metadata, object, oneOf, string, validateFields } from "../schema";
import { randomToken, realNow } from "../state";
import { LIST_PARAMS, listOf, stringRecord, throwMissing, type RouteContext } from "./router";

const DURATION = oneOf("forever", "once", "repeating");
const CODE = /^[A-Za-z0-9-]+$/;
/** Stripe refuses a redeem_by more than five years ahead. */
const FIVE_YEARS = 5 * 366 * 24 * 3600;

/** Coupon.create's params (Stripe.CouponCreateParams); percent_off is a decimal, checked by hand. */
const COUPON_CREATE_PARAMS = {
  amount_off: integer,
  applies_to: object({ products: arrayOf(string) }),
  currency: string,
  duration: DURATION,
  duration_in_months: integer,
  expand: arrayOf(string),
  id: string,
  max_redemptions: integer,
  metadata: emptyable(metadata),
  name: string,
  percent_off: string,
  redeem_by: integer,
};

const PROMOTION_CODE_CREATE_PARAMS = {
  promotion: object({ coupon: string, type: oneOf("coupon") }, ["type"]),
  active: boolean,
  code: string,
  customer: string,
  expand: arrayOf(string),
  expires_at: integer,
  max_redemptions: integer,
  metadata: emptyable(metadata),
  restrictions: object({ first_time_transaction: boolean, minimum_amount: integer, minimum_amount_currency: string }),
};

/** Multi-currency coupons and product restrictions are real Stripe params the sandbox does not model: say so. */
function refuseUnsupported(params: Params): void {
  for (const unsupported of ["applies_to", "currency_options"]) {
    if (params[unsupported] !== undefined) throw invalidParameter(unsupported, `The Stripe sandbox does not support ${unsupported} on coupons.`);
  }
}

export function couponRoutes({ engine, route }: RouteContext): void {
  const s = () => engine.state;
  const requireCoupon = (id: string, param = "id"): Stripe.Coupon => {
    const coupon = s().coupons[id];
    if (!coupon) throw resourceMissing("coupon", id, param);
    return refreshCoupon(coupon, realNow());
  };

  // Coupons
  route("POST", "/v1/coupons", ({ params }) => {
    refuseUnsupported(params);
    validateFields(params, COUPON_CREATE_PARAMS);
    const percentText = str(params, "percent_off");
    const amountOff = int(params, "amount_off");
    if (percentText === undefined && amountOff === undefined) {
      throw invalidRequest("You must pass either `percent_off` or `amount_off`.", "percent_off");
    }
    if (percentText !== undefined && amountOff !== undefined) {
      throw invalidRequest("You may only specify one of these parameters: amount_off, percent_off.", "amount_off");
    }
    let percentOff: number | null = null;
    if (percentText !== undefined) {
      percentOff = Number(percentText);
      if (percentText.trim() === "" || !Number.isFinite(percentOff)) throw invalidParameter("percent_off", `Invalid decimal: ${percentText}`);
      if (percentOff <= 0 || percentOff > 100) {
        throw invalidParameter("percent_off", "Invalid percent_off: must be greater than 0 and less than or equal to 100.");
      }
    }
    const currency = str(params, "currency")?.toLowerCase();
    if (amountOff !== undefined) {
      if (amountOff <= 0) throw invalidParameter("amount_off", "Invalid amount_off: must be a positive integer.");
      if (!currency) throw missingParameter("currency");
      if (!/^[a-z]{3}$/.test(currency)) throw invalidParameter("currency", `Invalid currency: ${currency}`);
    }
    const duration = str(params, "duration") ?? "once";
    const months = int(params, "duration_in_months");
    if (duration === "repeating") {
      if (months === undefined) throw missingParameter("duration_in_months");
      if (months < 1) throw invalidParameter("duration_in_months", "Invalid duration_in_months: must be a positive integer.");
    } else if (months !== undefined) {
      throw invalidParameter("duration_in_months", "duration_in_months can only be set when duration is `repeating`.");
    }
    const maxRedemptions = int(params, "max_redemptions");
    if (maxRedemptions !== undefined && maxRedemptions < 1) throw invalidParameter("max_redemptions", "Invalid max_redemptions: must be a positive integer.");
    const now = realNow();
    const redeemBy = int(params, "redeem_by");
    if (redeemBy !== undefined && redeemBy <= now) throw invalidParameter("redeem_by", "Invalid redeem_by: must be in the future.");
    if (redeemBy !== undefined && redeemBy > now + FIVE_YEARS) throw invalidParameter("redeem_by", "Invalid redeem_by: must be at most five years in the future.");
    const name = str(params, "name");
    if (name !== undefined && name.length > 40) throw invalidParameter("name", "Invalid name: must be at most 40 characters.");
    const id = str(params, "id");
    if (id !== undefined) {
      if (id === "") throw invalidParameter("id", "Invalid id: must not be empty.");
      if (s().coupons[id]) throw new StripeApiError(400, "invalid_request_error", "resource_already_exists", "Coupon already exists.", "id");
    }
    const coupon = couponObject({
      id,
      percentOff,
      amountOff: amountOff ?? null,
      currency: amountOff !== undefined ? (currency ?? null) : null,
      duration,
      durationInMonths: duration === "repeating" ? (months ?? null) : null,
      maxRedemptions: maxRedemptions ?? null,
      redeemBy: redeemBy ?? null,
      name: name || null,
      metadata: stringRecord(params, "metadata"),
      now,
    });
    s().coupons[coupon.id] = coupon;
    return coupon;
  });
  route("GET", "/v1/coupons/:id", (_req, id) => requireCoupon(id));
  route("POST", "/v1/coupons/:id", ({ params }, id) => {
    refuseUnsupported(params);
    allowOnly(params, ["metadata", "name"]);
    const coupon = requireCoupon(id);
    const name = str(params, "name");
    if (name !== undefined) {
      if (name.length > 40) throw invalidParameter("name", "Invalid name: must be at most 40 characters.");
      coupon.name = name || null;
    }
    coupon.metadata = mergeMetadata(coupon.metadata ?? {}, params);
    return coupon;
  });
  route("DELETE", "/v1/coupons/:id", (_req, id) => {
    requireCoupon(id);
    // Discounts already redeemed keep running, as on Stripe; the coupon cannot be redeemed again.
    delete s().coupons[id];
    for (const promo of Object.values(s().promotionCodes)) if (promo.promotion.coupon === id) promo.active = false;
    return { id, object: "coupon", deleted: true };
  });
  route("GET", "/v1/coupons", ({ params }) => {
    allowOnly(params, LIST_PARAMS);
    const now = realNow();
    return listOf(Object.values(s().coupons).map((c) => refreshCoupon(c, now)), params, "/v1/coupons");
  });

  // Promotion codes
  route("POST", "/v1/promotion_codes", ({ params }) => {
    validateFields(params, PROMOTION_CODE_CREATE_PARAMS, ["promotion"]);
    const promotion = obj(params, "promotion") ?? {};
    const couponId = requireStr(promotion, "coupon", "promotion[coupon]");
    const coupon = requireCoupon(couponId, "promotion[coupon]");
    if (!coupon.valid) throw invalidRequest(`Coupon expired: ${coupon.id}`, "promotion[coupon]");
    const typed = str(params, "code");
    if (typed !== undefined && (typed === "" || !CODE.test(typed))) {
      throw invalidParameter("code", "Invalid code: use only letters (a-z, A-Z), digits (0-9) and dashes (-).");
    }
    if (typed !== undefined && typed.length > 500) throw invalidParameter("code", "Invalid code: must be at most 500 characters.");
    const customer = str(params, "customer");
    if (customer) engine.requireCustomer(customer, "customer");
    const active = bool(params, "active") ?? true;
    const code = typed ?? randomToken(8).toUpperCase();
    if (active) {
      const clash = Object.values(s().promotionCodes).find(
        (p) => p.active && p.code.toLowerCase() === code.toLowerCase() && (p.customer === null || customer === undefined || p.customer === customer),
      );
      if (clash) throw invalidRequest(`An active promotion code with \`code: ${code}\` already exists.`, "code");
    }
    const now = realNow();
    const expiresAt = int(params, "expires_at");
    if (expiresAt !== undefined && expiresAt <= now) throw invalidParameter("expires_at", "Invalid expires_at: must be in the future.");
    if (expiresAt !== undefined && coupon.redeem_by !== null && expiresAt > coupon.redeem_by) {
      throw invalidParameter("expires_at", "The promotion code's expires_at cannot be later than its coupon's redeem_by.");
    }
    const maxRedemptions = int(params, "max_redemptions");
    if (maxRedemptions !== undefined && maxRedemptions < 1) throw invalidParameter("max_redemptions", "Invalid max_redemptions: must be a positive integer.");
    const restrictions = obj(params, "restrictions") ?? {};
    const minimumAmount = int(restrictions, "minimum_amount", "restrictions[minimum_amount]");
    const minimumCurrency = str(restrictions, "minimum_amount_currency", "restrictions[minimum_amount_currency]")?.toLowerCase();
    if (minimumAmount !== undefined && minimumAmount < 0) throw invalidParameter("restrictions[minimum_amount]", "Invalid restrictions[minimum_amount]: must be a positive integer.");
    if (minimumAmount !== undefined && !minimumCurrency) throw missingParameter("restrictions[minimum_amount_currency]");
    if (minimumAmount === undefined && minimumCurrency) throw missingParameter("restrictions[minimum_amount]");
    const promo = promotionCodeObject({
      code,
      coupon: coupon.id,
      active,
      customer: customer ?? null,
      expiresAt: expiresAt ?? null,
      maxRedemptions: maxRedemptions ?? null,
      firstTimeTransaction: bool(restrictions, "first_time_transaction", "restrictions[first_time_transaction]") ?? false,
      minimumAmount: minimumAmount ?? null,
      minimumAmountCurrency: minimumCurrency ?? null,
      metadata: stringRecord(params, "metadata"),
      now,
    });
    s().promotionCodes[promo.id] = promo;
    return promo;
  });
  route("GET", "/v1/promotion_codes/:id", (_req, id) => s().promotionCodes[id] ?? throwMissing("promotion_code", id));
  route("POST", "/v1/promotion_codes/:id", ({ params }, id) => {
    allowOnly(params, ["active", "metadata", "restrictions"]);
    if (params.restrictions !== undefined) throw invalidParameter("restrictions", "The Stripe sandbox does not support currency_options on promotion codes.");
    checkEach(params, { active: boolean, metadata: emptyable(metadata) });
    const promo = s().promotionCodes[id] ?? throwMissing("promotion_code", id);
    const active = bool(params, "active");
    if (active === true && !promo.active) {
      const couponId = typeof promo.promotion.coupon === "string" ? promo.promotion.coupon : (promo.promotion.coupon?.id ?? "");
      if (!s().coupons[couponId]) throw invalidRequest("This promotion code's coupon was deleted; it cannot be reactivated.", "active");
      const clash = Object.values(s().promotionCodes).find((p) => p.id !== promo.id && p.active && p.code.toLowerCase() === promo.code.toLowerCase());
      if (clash) throw invalidRequest(`An active promotion code with \`code: ${promo.code}\` already exists.`, "active");
    }
    if (active !== undefined) promo.active = active;
    promo.metadata = mergeMetadata(promo.metadata ?? {}, params);
    return promo;
  });
  route("GET", "/v1/promotion_codes", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "active", "code", "coupon", "customer"]);
    const active = bool(params, "active");
    const code = str(params, "code")?.toLowerCase();
    const coupon = str(params, "coupon");
    const customer = str(params, "customer");
    return listOf(
      Object.values(s().promotionCodes).filter(
        (p) =>
          (active === undefined || p.active === active) &&
          (!code || p.code.toLowerCase() === code) &&
          (!coupon || p.promotion.coupon === coupon) &&
          (!customer || p.customer === customer),
      ),
      params,
      "/v1/promotion_codes",
    );
  });

  // The sandbox's automatic tax rate (read-only: invoices name it in tax_rate_details)
  route("GET", "/v1/tax_rates/:id", (_req, id) => (id === SANDBOX_TAX_RATE_ID ? sandboxTaxRate() : throwMissing("tax_rate", id)));
  route("GET", "/v1/tax_rates", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "active", "inclusive"]);
    return listOf([sandboxTaxRate()], params, "/v1/tax_rates");
  });
}

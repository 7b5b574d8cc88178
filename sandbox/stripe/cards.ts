// Stripe's test card numbers and `pm_card_*` tokens, and what each does when charged.
import { StripeApiError } from "./errors";
import type { TestCard } from "./objects";

interface KnownCard {
  brand: string;
  declineCode: string | null;
  /** False for a card that is charged fine at Checkout time but is refused later: attaching it succeeds. */
  declinesOnAttach?: boolean;
  /** A card whose charges succeed and are then disputed by the cardholder (0259). */
  disputesCharges?: boolean;
}

const KNOWN_CARDS: Record<string, KnownCard> = {
  "4242424242424242": { brand: "visa", declineCode: null },
  "4000056655665556": { brand: "visa", declineCode: null },
  "5555555555554444": { brand: "mastercard", declineCode: null },
  "378282246310005": { brand: "amex", declineCode: null },
  "4000000000000002": { brand: "visa", declineCode: "generic_decline" },
  "4000000000009995": { brand: "visa", declineCode: "insufficient_funds" },
  "4000000000009987": { brand: "visa", declineCode: "lost_card" },
  // Attaches fine and fails every later charge: Stripe's card for "the renewal will fail".
  "4000000000000341": { brand: "visa", declineCode: "generic_decline", declinesOnAttach: false },
  // Charged fine, then disputed as fraudulent: Stripe's card for "the cardholder files a chargeback".
  "4000000000000259": { brand: "visa", declineCode: null, disputesCharges: true },
};

export const PAYMENT_METHOD_TOKENS: Record<string, string> = {
  pm_card_visa: "4242424242424242",
  pm_card_visa_debit: "4000056655665556",
  pm_card_mastercard: "5555555555554444",
  pm_card_amex: "378282246310005",
  pm_card_chargeDeclined: "4000000000000002",
  pm_card_visa_chargeDeclined: "4000000000000002",
  pm_card_chargeDeclinedInsufficientFunds: "4000000000009995",
  pm_card_chargeDeclinedLostCard: "4000000000009987",
  pm_card_chargeCustomerFail: "4000000000000341",
  pm_card_createDispute: "4000000000000259",
};

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function brandOf(digits: string): string {
  if (digits.startsWith("4")) return "visa";
  if (/^5[1-5]/.test(digits) || /^2[2-7]/.test(digits)) return "mastercard";
  if (/^3[47]/.test(digits)) return "amex";
  return "unknown";
}

/** Reads a typed card number; throws Stripe's 402 `incorrect_number` for one that is not a card number at all. */
export function readCard(number: string, expiry?: { month: number; year: number }): TestCard {
  const digits = number.replace(/[\s-]/g, "");
  if (!/^\d{12,19}$/.test(digits) || !luhnValid(digits)) {
    throw new StripeApiError(402, "card_error", "incorrect_number", "Your card number is incorrect.", "number");
  }
  const known = KNOWN_CARDS[digits];
  const year = new Date().getUTCFullYear();
  return {
    brand: known?.brand ?? brandOf(digits),
    last4: digits.slice(-4),
    declineCode: known?.declineCode ?? null,
    // Stripe checks a card when it is attached to a customer: a card that declines is refused there too (0002),
    // except the one made to attach and fail later (0341).
    declinesOnAttach: known ? (known.declinesOnAttach ?? known.declineCode !== null) : false,
    disputesCharges: known?.disputesCharges ?? false,
    expMonth: expiry?.month ?? 12,
    expYear: expiry?.year ?? year + 5,
  };
}

/** Parses "MM / YY" (or MM/YYYY); null when unreadable or in the past. */
export function readExpiry(value: string): { month: number; year: number } | null {
  const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(value);
  if (!match) return null;
  const month = Number(match[1]);
  let year = Number(match[2]);
  if (year < 100) year += 2000;
  if (month < 1 || month > 12) return null;
  const now = new Date();
  if (year < now.getUTCFullYear() || (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1)) return null;
  return { month, year };
}

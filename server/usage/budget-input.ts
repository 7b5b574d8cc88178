// Input checks shared by every budget store, so a bad call fails the same way whichever store is behind it:
// a TypeError for a missing id or date, a RangeError for a token count that is not a non-negative integer.

/** How long an unsettled reservation is remembered; afterwards it stays charged and a late settle is a no-op. */
export const DEFAULT_RESERVATION_TTL_MS = 15 * 60 * 1000;

export function assertId(name: string, value: unknown): asserts value is string {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string`);
  }
}

export function assertTokenCount(name: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer number of tokens, got ${String(value)}`);
  }
}

export function assertPeriodEnd(value: unknown): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TypeError("periodEnd must be a valid Date");
  }
}

export function assertReservationTtl(value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`reservationTtlMs must be a positive integer, got ${value}`);
  }
}

/** A pack id (a payment's id) goes into store keys and lists: letters, digits, `_` and `-` only. */
export function assertPackId(value: unknown): asserts value is string {
  if (typeof value !== "string" || !/^[\w-]{1,200}$/.test(value)) {
    throw new TypeError("packId must be 1-200 letters, digits, '_' or '-'");
  }
}

/** How long a revoke that arrived before its grant is remembered: longer than any pack lives. */
export const REVOKED_PACK_MEMORY_MS = 400 * 24 * 60 * 60 * 1000;

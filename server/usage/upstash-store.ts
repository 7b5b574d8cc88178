// The budget in Redis over Upstash's REST API. Each operation is one Lua script (atomic, every key in KEYS,
// Redis 6.2 commands only) and idempotent per request id, so the client's automatic retries never double-charge.
// Keys per user: `chatbot-usage:<userId>` (remaining tokens, expiring at the period end), `…:period` (the applied
// period end in unix ms, same expiry), `…:cap` (the highest plan cap the period's budget was granted under, same
// expiry) and `…:request:<requestId>` (a hash {granted, period, settled?} with a TTL).
import type { Redis } from "@upstash/redis";
import {
  BudgetStoreUnavailableError,
  budgetKey,
  type BudgetSnapshot,
  type BudgetStore,
  type RaiseCapResult,
  type ReserveResult,
  type ResetResult,
  type SettleResult,
} from "./budget-store";
import {
  DEFAULT_RESERVATION_TTL_MS,
  assertId,
  assertPeriodEnd,
  assertReservationTtl,
  assertTokenCount,
} from "./budget-input";

export const periodMarkerKey = (userId: string) => `${budgetKey(userId)}:period`;
export const capKey = (userId: string) => `${budgetKey(userId)}:cap`;
export const reservationKey = (userId: string, requestId: string) => `${budgetKey(userId)}:request:${requestId}`;

export interface UpstashBudgetStoreOptions {
  reservationTtlMs?: number;
}

// Shared helpers. GET answers false for a missing key inside Lua. Integers are written with %d because Lua's
// default number formatting switches to exponent notation past 14 digits.
const PRELUDE = `
local function parse_remaining(raw)
  if not raw then return nil end
  if not string.match(raw, '^%-?%d+$') then
    return redis.error_reply('ERR budget key does not hold an integer')
  end
  return tonumber(raw)
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function resets_at(budget_key, marker_key)
  local marker = tonumber(redis.call('GET', marker_key))
  if marker then return marker end
  local pttl = redis.call('PTTL', budget_key)
  if pttl < 0 then return -1 end
  return now_ms() + pttl
end
`;

// KEYS: budget, marker, reservation. ARGV: upperBound, reservation TTL ms.
// Returns {1, granted, remaining} or {0, 0, resetsAtMs | -1}.
const RESERVE_LUA = `${PRELUDE}
local remaining = parse_remaining(redis.call('GET', KEYS[1]))
if type(remaining) == 'table' then return remaining end
local held = tonumber(redis.call('HGET', KEYS[3], 'granted'))
if held then return {1, held, math.max(0, remaining or 0)} end
if not remaining then return {0, 0, -1} end
if remaining <= 0 then return {0, 0, resets_at(KEYS[1], KEYS[2])} end
local granted = math.min(tonumber(ARGV[1]), remaining)
redis.call('DECRBY', KEYS[1], string.format('%d', granted))
redis.call('HSET', KEYS[3], 'granted', string.format('%d', granted), 'period', redis.call('GET', KEYS[2]) or '')
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {1, granted, remaining - granted}
`;

// KEYS: budget, marker, reservation. ARGV: actual tokens. Returns {applied 0|1, remaining}.
// The settled mark keeps the reservation's TTL, so the tombstone outlives any retry of this settle.
// Tokens only move within the period that reserved them: after a reset the old hold is simply closed.
const SETTLE_LUA = `${PRELUDE}
local remaining = parse_remaining(redis.call('GET', KEYS[1]))
if type(remaining) == 'table' then return remaining end
local current = math.max(0, remaining or 0)
local granted = tonumber(redis.call('HGET', KEYS[3], 'granted'))
if not granted or redis.call('HEXISTS', KEYS[3], 'settled') == 1 then return {0, current} end
redis.call('HSET', KEYS[3], 'settled', ARGV[1])
if not remaining or redis.call('HGET', KEYS[3], 'period') ~= (redis.call('GET', KEYS[2]) or '') then
  return {1, current}
end
local after = math.max(0, remaining + granted - tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', after), 'KEEPTTL')
return {1, after}
`;

// KEYS: budget, marker, cap. ARGV: budget, period end ms. Returns {applied 0|1, remaining}.
const RESET_LUA = `${PRELUDE}
local raw = redis.call('GET', KEYS[1])
local current = 0
if raw and string.match(raw, '^%-?%d+$') then current = math.max(0, tonumber(raw)) end
local period_end = tonumber(ARGV[2])
local marker = tonumber(redis.call('GET', KEYS[2]))
if period_end <= now_ms() or (marker and period_end <= marker) then return {0, current} end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
redis.call('SET', KEYS[2], ARGV[2], 'PXAT', ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'PXAT', ARGV[2])
return {1, tonumber(ARGV[1])}
`;

// KEYS: budget, marker, cap. ARGV: budget, period end ms. Returns {applied 0|1, remaining}.
// Only a missing budget under a live marker for exactly this period is put back.
const RESTORE_LUA = `${PRELUDE}
local remaining = parse_remaining(redis.call('GET', KEYS[1]))
if type(remaining) == 'table' then return remaining end
if remaining then return {0, math.max(0, remaining)} end
local marker = tonumber(redis.call('GET', KEYS[2]))
if not marker or marker ~= tonumber(ARGV[2]) or marker <= now_ms() then return {0, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'PXAT', ARGV[2])
return {1, tonumber(ARGV[1])}
`;

// KEYS: budget, marker, cap. ARGV: cap, period end ms, cap assumed when none is recorded.
// Returns {applied 0|1, remaining}. The cap key only ever rises within a period, and expires with the marker.
const RAISE_CAP_LUA = `${PRELUDE}
local remaining = parse_remaining(redis.call('GET', KEYS[1]))
if type(remaining) == 'table' then return remaining end
if not remaining then return {0, 0} end
local current = math.max(0, remaining)
local marker = tonumber(redis.call('GET', KEYS[2]))
if not marker or marker ~= tonumber(ARGV[2]) then return {0, current} end
local raw_cap = redis.call('GET', KEYS[3])
local recorded = tonumber(raw_cap) or tonumber(ARGV[3])
local cap = tonumber(ARGV[1])
if cap <= recorded then
  if not raw_cap then redis.call('SET', KEYS[3], string.format('%d', recorded), 'PXAT', ARGV[2]) end
  return {0, current}
end
local after = current + cap - recorded
redis.call('SET', KEYS[1], string.format('%d', after), 'KEEPTTL')
redis.call('SET', KEYS[3], ARGV[1], 'PXAT', ARGV[2])
return {1, after}
`;

// KEYS: budget, marker. Returns nil or {remaining, resetsAtMs | -1}.
const READ_LUA = `${PRELUDE}
local remaining = parse_remaining(redis.call('GET', KEYS[1]))
if type(remaining) == 'table' then return remaining end
if not remaining then return nil end
return {math.max(0, remaining), resets_at(KEYS[1], KEYS[2])}
`;

export function createUpstashBudgetStore(redis: Redis, options: UpstashBudgetStoreOptions = {}): BudgetStore {
  const reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  assertReservationTtl(reservationTtlMs);

  const scripts = {
    reserve: redis.createScript<unknown>(RESERVE_LUA),
    settle: redis.createScript<unknown>(SETTLE_LUA),
    reset: redis.createScript<unknown>(RESET_LUA),
    restore: redis.createScript<unknown>(RESTORE_LUA),
    raiseCap: redis.createScript<unknown>(RAISE_CAP_LUA),
    read: redis.createScript<unknown>(READ_LUA),
  };

  async function run(name: keyof typeof scripts, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await scripts[name].exec(keys, args);
    } catch (error) {
      throw new BudgetStoreUnavailableError(`the Upstash store failed on ${name}`, { cause: error });
    }
  }

  return {
    async reserve(userId, requestId, upperBound): Promise<ReserveResult> {
      assertId("userId", userId);
      assertId("requestId", requestId);
      assertTokenCount("upperBound", upperBound);
      const reply = await run(
        "reserve",
        [budgetKey(userId), periodMarkerKey(userId), reservationKey(userId, requestId)],
        [String(upperBound), String(reservationTtlMs)],
      );
      const [ok, second, third] = integers("reserve", reply, 3);
      if (ok === 1) return { ok: true, granted: second, tokensRemaining: third };
      return { ok: false, tokensRemaining: 0, resetsAt: third < 0 ? null : new Date(third) };
    },

    async settle(userId, requestId, actualTokens): Promise<SettleResult> {
      assertId("userId", userId);
      assertId("requestId", requestId);
      assertTokenCount("actualTokens", actualTokens);
      const reply = await run(
        "settle",
        [budgetKey(userId), periodMarkerKey(userId), reservationKey(userId, requestId)],
        [String(actualTokens)],
      );
      const [applied, tokensRemaining] = integers("settle", reply, 2);
      return { applied: applied === 1, tokensRemaining };
    },

    async reset(userId, budget, periodEnd): Promise<ResetResult> {
      assertId("userId", userId);
      assertTokenCount("budget", budget);
      assertPeriodEnd(periodEnd);
      const reply = await run(
        "reset",
        [budgetKey(userId), periodMarkerKey(userId), capKey(userId)],
        [String(budget), String(periodEnd.getTime())],
      );
      const [applied, tokensRemaining] = integers("reset", reply, 2);
      return { applied: applied === 1, tokensRemaining };
    },

    async restore(userId, budget, periodEnd): Promise<ResetResult> {
      assertId("userId", userId);
      assertTokenCount("budget", budget);
      assertPeriodEnd(periodEnd);
      const reply = await run(
        "restore",
        [budgetKey(userId), periodMarkerKey(userId), capKey(userId)],
        [String(budget), String(periodEnd.getTime())],
      );
      const [applied, tokensRemaining] = integers("restore", reply, 2);
      return { applied: applied === 1, tokensRemaining };
    },

    async raiseCap(userId, cap, periodEnd, options = {}): Promise<RaiseCapResult> {
      assertId("userId", userId);
      assertTokenCount("cap", cap);
      assertPeriodEnd(periodEnd);
      const unrecordedCap = options.unrecordedCap ?? cap;
      assertTokenCount("unrecordedCap", unrecordedCap);
      const reply = await run(
        "raiseCap",
        [budgetKey(userId), periodMarkerKey(userId), capKey(userId)],
        [String(cap), String(periodEnd.getTime()), String(unrecordedCap)],
      );
      const [applied, tokensRemaining] = integers("raiseCap", reply, 2);
      return { applied: applied === 1, tokensRemaining };
    },

    async read(userId): Promise<BudgetSnapshot | null> {
      assertId("userId", userId);
      const reply = await run("read", [budgetKey(userId), periodMarkerKey(userId)], []);
      if (reply === null) return null;
      const [tokensRemaining, resetsAtMs] = integers("read", reply, 2);
      return { tokensRemaining, resetsAt: resetsAtMs < 0 ? null : new Date(resetsAtMs) };
    },

    async forget(userId): Promise<void> {
      assertId("userId", userId);
      try {
        // The reservations' keys are found with SCAN (a glob-escaped pattern); the budget and marker are known.
        const pattern = `${reservationKey(userId, "").replace(/[*?[\]\\]/g, "\\$&")}*`;
        const keys = [budgetKey(userId), periodMarkerKey(userId), capKey(userId)];
        let cursor = "0";
        do {
          const [next, found] = await redis.scan(cursor, { match: pattern, count: 1_000 });
          cursor = String(next);
          keys.push(...found);
        } while (cursor !== "0");
        for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new BudgetStoreUnavailableError(`Budget store (Upstash) failed on forget: ${reason}`, { cause: error });
      }
    },
  };
}

/** Narrows a script reply to exactly `length` integers; anything else means the store answered wrongly. */
function integers<N extends 2 | 3>(operation: string, reply: unknown, length: N): N extends 3 ? [number, number, number] : [number, number];
function integers(operation: string, reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((item) => Number.isSafeInteger(item))) {
    throw new BudgetStoreUnavailableError(`the Upstash store answered ${operation} wrongly`, {
      cause: new Error(`unexpected reply to ${operation}: ${JSON.stringify(reply)}`),
    });
  }
  return reply.filter((item): item is number => typeof item === "number");
}

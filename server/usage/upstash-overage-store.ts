// The overage ledger in Redis over Upstash's REST API, beside the Upstash budget store: each operation is one Lua
// script (every key in KEYS), so the check against the cap and the hold are one step however many answers run at
// once, and idempotent per request id, so the client's retries never hold or charge twice.
// Keys: `chatbot-overage:<userId>:<periodEndMs>` (tokens held + charged, expiring at the period end) and
// `chatbot-overage:<userId>:request:<requestId>` (a hash {granted, settled?} with the reservation TTL).
import type { Redis } from "@upstash/redis";
import { BudgetStoreUnavailableError } from "./budget-store";
import { DEFAULT_RESERVATION_TTL_MS, assertReservationTtl } from "./budget-input";
import { checkedOverageStore, overageKey, overageReservationKey, type OverageReserveResult, type OverageSettleResult, type OverageStore } from "./overage-store";
import { integers } from "./upstash-store";

// KEYS: period, request. ARGV: upperBound, capTokens, periodEndMs, ttlMs. Reply: {ok, granted, used}.
const RESERVE_LUA = `
local held = redis.call('HGET', KEYS[2], 'granted')
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if held then return {1, tonumber(held), used} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local grant = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - used)
if grant <= 0 or tonumber(ARGV[3]) <= now then return {0, 0, used} end
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'granted', grant)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {1, grant, used + grant}
`;

// KEYS: period, request. ARGV: actualTokens. Reply: {applied, charged}.
const SETTLE_LUA = `
local held = redis.call('HGET', KEYS[2], 'granted')
if not held then return {0, 0} end
local settled = redis.call('HGET', KEYS[2], 'settled')
if settled then return {0, tonumber(settled)} end
local charge = math.min(tonumber(ARGV[1]), tonumber(held))
local refund = tonumber(held) - charge
if refund > 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], refund) end
redis.call('HSET', KEYS[2], 'settled', charge)
return {1, charge}
`;

export function createUpstashOverageStore(redis: Redis, options: { reservationTtlMs?: number } = {}): OverageStore {
  const reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  assertReservationTtl(reservationTtlMs);
  const scripts = { reserve: redis.createScript<unknown>(RESERVE_LUA), settle: redis.createScript<unknown>(SETTLE_LUA) };

  async function run<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new BudgetStoreUnavailableError(`the Upstash store failed on overage ${what}`, { cause: error });
    }
  }

  return checkedOverageStore({
    async reserve(userId, requestId, upperBound, capTokens, periodEnd): Promise<OverageReserveResult> {
      const keys = [overageKey(userId, periodEnd.getTime()), overageReservationKey(userId, requestId)];
      const args = [String(upperBound), String(capTokens), String(periodEnd.getTime()), String(reservationTtlMs)];
      const [ok, granted, used] = integers("overage reserve", await run("reserve", () => scripts.reserve.exec(keys, args)), 3);
      return ok === 1 ? { ok: true, granted, overageUsed: used } : { ok: false, overageUsed: used };
    },

    async settle(userId, requestId, periodEnd, actualTokens): Promise<OverageSettleResult> {
      const keys = [overageKey(userId, periodEnd.getTime()), overageReservationKey(userId, requestId)];
      const [applied, charged] = integers("overage settle", await run("settle", () => scripts.settle.exec(keys, [String(actualTokens)])), 2);
      return { applied: applied === 1, tokensCharged: charged };
    },

    async read(userId, periodEnd): Promise<number> {
      const raw = await run("read", () => redis.get<number | string>(overageKey(userId, periodEnd.getTime())));
      const used = raw === null ? 0 : Number(raw);
      if (!Number.isSafeInteger(used)) throw new BudgetStoreUnavailableError("the Upstash store answered overage read wrongly");
      return used;
    },
  });
}

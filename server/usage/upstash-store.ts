// The budget in Redis over Upstash's REST API. Each operation is one Lua script (atomic, every key in KEYS,
// Redis 6.2 commands only) and idempotent per request id, so the client's automatic retries never double-charge.
// Keys per user: `chatbot-usage:<userId>` (remaining tokens, expiring at the period end), `…:period` (the applied
// period end in unix ms, same expiry), `…:cap` (the highest plan cap the period's budget was granted under, same
// expiry), `…:request:<requestId>` (a hash {granted, period, from_period, packs, settled?} with a TTL) and `…:packs`
// (a hash: pack id -> "remaining|expiresAtMs|revoked 0/1", expiring with the last pack).
import type { Redis } from "@upstash/redis";
import {
  BudgetStoreUnavailableError,
  budgetKey,
  type BudgetSnapshot,
  type BudgetStore,
  type GrantPackResult,
  type PackSnapshot,
  type RaiseCapResult,
  type RevokePackResult,
  type ReserveResult,
  type ResetResult,
  type SettleResult,
} from "./budget-store";
import {
  DEFAULT_RESERVATION_TTL_MS,
  REVOKED_PACK_MEMORY_MS,
  assertId,
  assertPackId,
  assertPeriodEnd,
  assertReservationTtl,
  assertTokenCount,
} from "./budget-input";

export const periodMarkerKey = (userId: string) => `${budgetKey(userId)}:period`;
export const capKey = (userId: string) => `${budgetKey(userId)}:cap`;
export const packsKey = (userId: string) => `${budgetKey(userId)}:packs`;
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
-- Credit packs: the live ones (not revoked, not expired, tokens left), oldest first, and their total.
local function live_packs(key, now)
  local flat = redis.call('HGETALL', key)
  local packs, total = {}, 0
  for i = 1, #flat, 2 do
    local rem, exp, rev = string.match(flat[i + 1], '^(%d+)|(%d+)|([01])$')
    if rem and rev == '0' and tonumber(exp) > now and tonumber(rem) > 0 then
      table.insert(packs, {id = flat[i], rem = tonumber(rem), exp = tonumber(exp)})
      total = total + tonumber(rem)
    end
  end
  table.sort(packs, function(a, b) if a.exp == b.exp then return a.id < b.id end return a.exp < b.exp end)
  return packs, total
end
local function save_pack(key, id, rem, exp, revoked)
  redis.call('HSET', key, id, string.format('%d|%d|%d', rem, exp, revoked))
  local pttl = redis.call('PTTL', key)
  if pttl < 0 or now_ms() + pttl < exp then redis.call('PEXPIREAT', key, string.format('%d', exp)) end
end
-- Takes up to want tokens from the live packs, oldest first; returns what was taken as "id:n,id:n" and the amount.
local function take_from_packs(key, want, now)
  local packs = live_packs(key, now)
  local taken, got = {}, 0
  for _, p in ipairs(packs) do
    if want - got <= 0 then break end
    local take = math.min(want - got, p.rem)
    save_pack(key, p.id, p.rem - take, p.exp, 0)
    got = got + take
    table.insert(taken, p.id .. ':' .. string.format('%d', take))
  end
  return table.concat(taken, ','), got
end
local function resets_at(budget_key, marker_key)
  local marker = tonumber(redis.call('GET', marker_key))
  if marker then return marker end
  local pttl = redis.call('PTTL', budget_key)
  if pttl < 0 then return -1 end
  return now_ms() + pttl
end
`;

// KEYS: budget, marker, reservation, packs. ARGV: upperBound, reservation TTL ms.
// Returns {1, granted, remaining, packTokens} or {0, 0, resetsAtMs | -1, packTokens}. The period's budget first,
// then the packs, oldest first; packs are spent only while a period's budget exists.
const RESERVE_LUA = `${PRELUDE}
local remaining = parse_remaining(redis.call('GET', KEYS[1]))
if type(remaining) == 'table' then return remaining end
local now = now_ms()
local held = tonumber(redis.call('HGET', KEYS[3], 'granted'))
if held then
  local _, total = live_packs(KEYS[4], now)
  return {1, held, math.max(0, remaining or 0), total}
end
if not remaining then return {0, 0, -1, 0} end
local period = math.max(0, remaining)
local _, total = live_packs(KEYS[4], now)
if period + total <= 0 then return {0, 0, resets_at(KEYS[1], KEYS[2]), 0} end
local want = tonumber(ARGV[1])
local from_period = math.min(want, period)
redis.call('SET', KEYS[1], string.format('%d', period - from_period), 'KEEPTTL')
local taken, got = take_from_packs(KEYS[4], want - from_period, now)
local granted = from_period + got
redis.call('HSET', KEYS[3], 'granted', string.format('%d', granted), 'period', redis.call('GET', KEYS[2]) or '',
  'from_period', string.format('%d', from_period), 'packs', taken)
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {1, granted, period - from_period, total - got}
`;

// KEYS: budget, marker, reservation, packs. ARGV: actual tokens. Returns {applied 0|1, remaining}.
// The settled mark keeps the reservation's TTL, so the tombstone outlives any retry of this settle.
// Tokens only move back where they came from: to the packs still live (last taken first), then to the period that
// reserved them (after a reset the old hold is simply closed). An answer that cost more than its hold takes the
// extra from the period's budget, then the packs, never below zero.
const SETTLE_LUA = `${PRELUDE}
local remaining = parse_remaining(redis.call('GET', KEYS[1]))
if type(remaining) == 'table' then return remaining end
local current = math.max(0, remaining or 0)
local granted = tonumber(redis.call('HGET', KEYS[3], 'granted'))
if not granted or redis.call('HEXISTS', KEYS[3], 'settled') == 1 then return {0, current} end
redis.call('HSET', KEYS[3], 'settled', ARGV[1])
local now = now_ms()
local same_period = remaining and redis.call('HGET', KEYS[3], 'period') == (redis.call('GET', KEYS[2]) or '')
-- Holds from before packs existed have no from_period: all of it came from the period.
local from_period = tonumber(redis.call('HGET', KEYS[3], 'from_period')) or granted
local refund = granted - tonumber(ARGV[1])
if refund > 0 then
  local parts = {}
  for id, n in string.gmatch(redis.call('HGET', KEYS[3], 'packs') or '', '([^:,]+):(%d+)') do table.insert(parts, {id, tonumber(n)}) end
  for i = #parts, 1, -1 do
    if refund <= 0 then break end
    local raw = redis.call('HGET', KEYS[4], parts[i][1])
    local rem, exp, rev = string.match(raw or '', '^(%d+)|(%d+)|([01])$')
    if rem and rev == '0' and tonumber(exp) > now then
      local back = math.min(refund, parts[i][2])
      save_pack(KEYS[4], parts[i][1], tonumber(rem) + back, tonumber(exp), 0)
      refund = refund - back
    end
  end
  if same_period and refund > 0 then
    current = current + math.min(refund, from_period)
    redis.call('SET', KEYS[1], string.format('%d', current), 'KEEPTTL')
  end
elseif refund < 0 and same_period then
  local extra = -refund
  local from_budget = math.min(extra, current)
  current = current - from_budget
  redis.call('SET', KEYS[1], string.format('%d', current), 'KEEPTTL')
  take_from_packs(KEYS[4], extra - from_budget, now)
end
return {1, current}
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

// KEYS: packs. ARGV: pack id, tokens, expires at ms. Returns {applied 0|1, packTokens}. Once per pack id: an entry
// (live, spent, revoked) means the grant already happened or a refund came first.
const GRANT_PACK_LUA = `${PRELUDE}
local now = now_ms()
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  local _, total = live_packs(KEYS[1], now)
  return {0, total}
end
save_pack(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), 0)
local _, total = live_packs(KEYS[1], now)
return {1, total}
`;

// KEYS: packs. ARGV: pack id, how long a revoke before its grant is remembered (ms).
// Returns {applied 0|1, tokens removed, packTokens}.
const REVOKE_PACK_LUA = `${PRELUDE}
local now = now_ms()
local rem, exp, rev = string.match(redis.call('HGET', KEYS[1], ARGV[1]) or '', '^(%d+)|(%d+)|([01])$')
if rev == '1' then
  local _, total = live_packs(KEYS[1], now)
  return {0, 0, total}
end
local removed = 0
if rem and tonumber(exp) > now then removed = tonumber(rem) end
save_pack(KEYS[1], ARGV[1], 0, tonumber(exp) or (now + tonumber(ARGV[2])), 1)
local _, total = live_packs(KEYS[1], now)
return {1, removed, total}
`;

// KEYS: packs. Returns the live packs, oldest first, flat: {id, remaining, expiresAtMs, ...}.
const READ_PACKS_LUA = `${PRELUDE}
local packs = live_packs(KEYS[1], now_ms())
local flat = {}
for _, p in ipairs(packs) do
  table.insert(flat, p.id)
  table.insert(flat, p.rem)
  table.insert(flat, p.exp)
end
return flat
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
    grantPack: redis.createScript<unknown>(GRANT_PACK_LUA),
    revokePack: redis.createScript<unknown>(REVOKE_PACK_LUA),
    readPacks: redis.createScript<unknown>(READ_PACKS_LUA),
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
        [budgetKey(userId), periodMarkerKey(userId), reservationKey(userId, requestId), packsKey(userId)],
        [String(upperBound), String(reservationTtlMs)],
      );
      const [ok, second, third, packTokens] = integers("reserve", reply, 4);
      if (ok === 1) return { ok: true, granted: second, tokensRemaining: third, packTokens };
      return { ok: false, tokensRemaining: 0, resetsAt: third < 0 ? null : new Date(third) };
    },

    async settle(userId, requestId, actualTokens): Promise<SettleResult> {
      assertId("userId", userId);
      assertId("requestId", requestId);
      assertTokenCount("actualTokens", actualTokens);
      const reply = await run(
        "settle",
        [budgetKey(userId), periodMarkerKey(userId), reservationKey(userId, requestId), packsKey(userId)],
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

    async grantPack(userId, packId, tokens, expiresAt): Promise<GrantPackResult> {
      assertId("userId", userId);
      assertPackId(packId);
      assertTokenCount("tokens", tokens);
      assertPeriodEnd(expiresAt);
      const reply = await run("grantPack", [packsKey(userId)], [packId, String(tokens), String(expiresAt.getTime())]);
      const [applied, packTokens] = integers("grantPack", reply, 2);
      return { applied: applied === 1, packTokens };
    },

    async revokePack(userId, packId): Promise<RevokePackResult> {
      assertId("userId", userId);
      assertPackId(packId);
      const reply = await run("revokePack", [packsKey(userId)], [packId, String(REVOKED_PACK_MEMORY_MS)]);
      const [applied, tokensRemoved, packTokens] = integers("revokePack", reply, 3);
      return { applied: applied === 1, tokensRemoved, packTokens };
    },

    async readPacks(userId): Promise<PackSnapshot[]> {
      assertId("userId", userId);
      const reply = await run("readPacks", [packsKey(userId)], []);
      if (!Array.isArray(reply) || reply.length % 3 !== 0) {
        throw new BudgetStoreUnavailableError("the Upstash store answered readPacks wrongly", { cause: new Error(`unexpected reply: ${JSON.stringify(reply)}`) });
      }
      const packs: PackSnapshot[] = [];
      for (let i = 0; i < reply.length; i += 3) {
        const [packId, tokensRemaining, expiresAtMs] = [reply[i], reply[i + 1], reply[i + 2]] as unknown[];
        if (typeof tokensRemaining !== "number" || typeof expiresAtMs !== "number") {
          throw new BudgetStoreUnavailableError("the Upstash store answered readPacks wrongly", { cause: new Error(`unexpected reply: ${JSON.stringify(reply)}`) });
        }
        packs.push({ packId: String(packId), tokensRemaining, expiresAt: new Date(expiresAtMs) });
      }
      return packs;
    },

    async forget(userId): Promise<void> {
      assertId("userId", userId);
      try {
        // The reservations' keys are found with SCAN (a glob-escaped pattern); the budget and marker are known.
        const pattern = `${reservationKey(userId, "").replace(/[*?[\]\\]/g, "\\$&")}*`;
        const keys = [budgetKey(userId), periodMarkerKey(userId), capKey(userId), packsKey(userId)];
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
export function integers<N extends 2 | 3 | 4>(
  operation: string,
  reply: unknown,
  length: N,
): N extends 4 ? [number, number, number, number] : N extends 3 ? [number, number, number] : [number, number];
export function integers(operation: string, reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((item) => Number.isSafeInteger(item))) {
    throw new BudgetStoreUnavailableError(`the Upstash store answered ${operation} wrongly`, {
      cause: new Error(`unexpected reply to ${operation}: ${JSON.stringify(reply)}`),
    });
  }
  return reply.filter((item): item is number => typeof item === "number");
}

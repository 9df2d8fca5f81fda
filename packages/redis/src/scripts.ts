// Lua so each check-and-write is atomic on the server: a plain SET would overwrite a live claim of
// another owner (the classic idempotency-store bug), and GET-then-SET from the client races.
// A claim's value is 'p:' + owner token; a done mark is 'd'.

/** KEYS[1] key; ARGV token, leaseMs → 'claimed' | 'done' | 'busy'. */
export const CLAIM = `
local ok = redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'NX', 'PX', ARGV[2])
if ok then return 'claimed' end
if redis.call('GET', KEYS[1]) == 'd' then return 'done' end
return 'busy'`;

/**
 * KEYS[1] key; ARGV token, leaseMs → 1 renewed, 0 another owner took it (or it is done). A claim
 * that expired and that nobody took since is still its owner's (the contract): Redis dropped the
 * key, so it is taken again.
 */
export const RENEW = `
local v = redis.call('GET', KEYS[1])
if v == 'p:' .. ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/** KEYS[1] key; ARGV token, ttlMs → 1 marked done, 0 fenced out (nothing written). Expired, untaken: still ours. */
export const COMPLETE = `
local v = redis.call('GET', KEYS[1])
if v == 'p:' .. ARGV[1] or not v then
  redis.call('SET', KEYS[1], 'd', 'PX', ARGV[2])
  return 1
end
return 0`;

/** KEYS[1] key; ARGV token → drops the claim only if it is this owner's. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * CLAIM over a window in one script call: KEYS the keys; ARGV leaseMs, then one token per key →
 * one answer per key, in order. A key twice in one window is claimed by its first entry and busy
 * for the second, as two CLAIMs in a row would answer.
 */
export const CLAIM_MANY = `
local lease = ARGV[1]
local answers = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, 'p:' .. ARGV[i + 1], 'NX', 'PX', lease) then
    answers[i] = 'claimed'
  elseif redis.call('GET', key) == 'd' then
    answers[i] = 'done'
  else
    answers[i] = 'busy'
  end
end
return answers`;

/** COMPLETE over a window in one script call: KEYS the keys; ARGV ttlMs, then one token per key → 1/0 per key. */
export const COMPLETE_MANY = `
local ttl = ARGV[1]
local answers = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v == 'p:' .. ARGV[i + 1] or not v then
    redis.call('SET', key, 'd', 'PX', ttl)
    answers[i] = 1
  else
    answers[i] = 0
  end
end
return answers`;

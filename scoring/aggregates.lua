--[[
  Observes one claim for the entity aggregates, atomically: reads the aggregates of the claims
  observed before it, then adds it (scoring/aggregates.ts, RedisClaimAggregates, defines the
  semantics and the offline evaluator that must give the same integers).

  E = entities (2: billing provider, member), M = longest window in days, W = number of windows,
  B = days per block, NB = blocks passed per entity (enough to cover M days ending on any day).

  Day buckets are grouped in blocks: one hash per entity and block of B service days
  (block = floor(day / B)), fields n<day> = claims and c<day> = charged cents. A window of up to
  M days then reads NB hashes with one HMGET each, instead of one key per day.

    Input:
      KEYS[1]                 seen:<eventId>      idempotency: the raw result of the first observation
      KEYS[2]                 dup:<fingerprint>   the event id that first had this duplicate fingerprint
                                                  (fingerprint: HMAC under the aggregate key)
      KEYS[3]                 md:<member ref>     set of the member's dup keys (ref: HMAC of the
                                                  member id), so erasure can find and delete them
      KEYS[4 .. 3 + E*NB]     block hashes: entity e (0 provider, 1 member), block
                              floor((day - M + 1) / B) + j (j = 0 .. NB-1), at 4 + e*NB + j
      KEYS[4 + E*NB]          peer group day bucket (hash fields '#n' = claims, 'p:<npi>' = claims
                              of that provider)

      ARGV[1]                 event id (stable across replays)
      ARGV[2]                 key lifetime, seconds
      ARGV[3]                 claim's charged amount, integer cents
      ARGV[4]                 E
      ARGV[5]                 M
      ARGV[6]                 W
      ARGV[7 .. 6 + W]        window lengths, days, ascending
      ARGV[7 + W]             billing provider NPI
      ARGV[8 + W]             the claim's service day (days since 1970-01-01)
      ARGV[9 + W]             B
      ARGV[10 + W]            NB

    Output:
      The raw integers joined by commas: duplicate (0/1); per entity and window: claims, cents;
      then the peer group's claims and distinct providers on the day (all before this claim).
      Observing an event id again returns its first result and changes nothing.
]]
local prior = redis.call('GET', KEYS[1])
if prior then return prior end
local ttl = tonumber(ARGV[2])
local E = tonumber(ARGV[4]); local M = tonumber(ARGV[5]); local W = tonumber(ARGV[6])
local out = {}
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] then out[1] = 1 else out[1] = 0 end
if not owner then redis.call('SET', KEYS[2], ARGV[1], 'EX', ttl) end
redis.call('SADD', KEYS[3], KEYS[2]); redis.call('EXPIRE', KEYS[3], ttl)
local day = tonumber(ARGV[8 + W]); local B = tonumber(ARGV[9 + W]); local NB = tonumber(ARGV[10 + W])
local low = day - M + 1
local firstBlock = math.floor(low / B)
for e = 0, E - 1 do
  local counts = {}; local sums = {}
  for j = 0, NB - 1 do
    local block = firstBlock + j
    local from = math.max(low, block * B); local to = math.min(day, block * B + B - 1)
    if from <= to then
      local fields = {}
      for d = from, to do fields[#fields + 1] = 'n' .. d; fields[#fields + 1] = 'c' .. d end
      local v = redis.call('HMGET', KEYS[4 + e * NB + j], unpack(fields))
      for d = from, to do
        local i = 2 * (d - from)
        counts[day - d] = tonumber(v[i + 1]) or 0; sums[day - d] = tonumber(v[i + 2]) or 0
      end
    end
  end
  for w = 1, W do
    local len = tonumber(ARGV[6 + w]); local n = 0; local c = 0
    for k = 0, len - 1 do n = n + counts[k]; c = c + sums[k] end
    out[#out + 1] = string.format('%d', n); out[#out + 1] = string.format('%d', c)
  end
end
local peerKey = KEYS[4 + E * NB]
local pn = tonumber(redis.call('HGET', peerKey, '#n')) or 0
local pp = redis.call('HLEN', peerKey)
if pn > 0 then pp = pp - 1 end
out[#out + 1] = string.format('%d', pn); out[#out + 1] = string.format('%d', pp)
local own = math.floor(day / B) - firstBlock
for e = 0, E - 1 do
  local key = KEYS[4 + e * NB + own]
  redis.call('HINCRBY', key, 'n' .. day, 1); redis.call('HINCRBY', key, 'c' .. day, ARGV[3]); redis.call('EXPIRE', key, ttl)
end
redis.call('HINCRBY', peerKey, '#n', 1); redis.call('HINCRBY', peerKey, 'p:' .. ARGV[7 + W], 1); redis.call('EXPIRE', peerKey, ttl)
local encoded = table.concat(out, ',')
redis.call('SET', KEYS[1], encoded, 'EX', ttl)
return encoded

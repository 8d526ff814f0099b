--[[
  Observes one claim for the entity aggregates, atomically: reads the aggregates of the claims
  observed before it, then adds it (scoring/aggregates.ts, RedisClaimAggregates, defines the
  semantics and the offline evaluator that must give the same integers).

  E = entities (2: billing provider, member), M = longest window in days, W = number of windows.

    Input:
      KEYS[1]                 seen:<eventId>      idempotency: the raw result of the first observation
      KEYS[2]                 dup:<fingerprint>   the event id that first had this duplicate fingerprint
                                                  (fingerprint: HMAC under the aggregate key)
      KEYS[3]                 md:<member ref>     set of the member's dup keys (ref: HMAC of the
                                                  member id), so erasure can find and delete them
      KEYS[4 .. 3 + E*M]      day buckets (hash fields n = claims, c = charged cents): entity e
                              (0 provider, 1 member), k days back (k = 0 .. M-1), at 4 + e*M + k
      KEYS[4 + E*M]           peer group day bucket (hash fields '#n' = claims, 'p:<npi>' = claims
                              of that provider)

      ARGV[1]                 event id (stable across replays: the decision id)
      ARGV[2]                 key lifetime, seconds
      ARGV[3]                 claim's charged amount, integer cents
      ARGV[4]                 E
      ARGV[5]                 M
      ARGV[6]                 W
      ARGV[7 .. 6 + W]        window lengths, days, ascending
      ARGV[7 + W]             billing provider NPI

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
for e = 0, E - 1 do
  local counts = {}; local sums = {}
  for k = 0, M - 1 do
    local v = redis.call('HMGET', KEYS[4 + e * M + k], 'n', 'c')
    counts[k] = tonumber(v[1]) or 0; sums[k] = tonumber(v[2]) or 0
  end
  for w = 1, W do
    local len = tonumber(ARGV[6 + w]); local n = 0; local c = 0
    for k = 0, len - 1 do n = n + counts[k]; c = c + sums[k] end
    out[#out + 1] = string.format('%d', n); out[#out + 1] = string.format('%d', c)
  end
end
local peerKey = KEYS[4 + E * M]
local pn = tonumber(redis.call('HGET', peerKey, '#n')) or 0
local pp = redis.call('HLEN', peerKey)
if pn > 0 then pp = pp - 1 end
out[#out + 1] = string.format('%d', pn); out[#out + 1] = string.format('%d', pp)
for e = 0, E - 1 do
  local key = KEYS[4 + e * M]
  redis.call('HINCRBY', key, 'n', 1); redis.call('HINCRBY', key, 'c', ARGV[3]); redis.call('EXPIRE', key, ttl)
end
redis.call('HINCRBY', peerKey, '#n', 1); redis.call('HINCRBY', peerKey, 'p:' .. ARGV[7 + W], 1); redis.call('EXPIRE', peerKey, ttl)
local encoded = table.concat(out, ',')
redis.call('SET', KEYS[1], encoded, 'EX', ttl)
return encoded

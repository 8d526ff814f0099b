--[[
  Observes one claim for the entity aggregates, atomically: reads the aggregates of the claims
  observed before it, then adds it (scoring/aggregates.ts, RedisClaimAggregates, defines the
  semantics and the offline evaluator that must give the same integers).

  E = entities (2: billing provider, member), M = longest window in days, W = number of windows,
  B = days per block, NB = blocks passed per entity (enough to cover M days ending on any day).

  Day buckets are grouped in blocks: one hash per entity and block of B service days
  (block = floor(day / B)), fields n<day> = claims and c<day> = charged cents. A window of up to
  M days then reads NB hashes (HGETALL each, the fields outside the window skipped), instead of one key per day.

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
local lens = {}
for w = 1, W do lens[w] = tonumber(ARGV[6 + w]) end
for e = 0, E - 1 do
  -- Each block hash is read whole (HGETALL: at most 2B fields, and a member's are sparse) and
  -- every field inside the longest window adds to the windows it falls in: no field names are
  -- built per day and absent days cost nothing.
  local n = {}; local c = {}
  for w = 1, W do n[w] = 0; c[w] = 0 end
  for j = 0, NB - 1 do
    local block = firstBlock + j
    local from = math.max(low, block * B); local to = math.min(day, block * B + B - 1)
    if from <= to then
      local v = redis.call('HGETALL', KEYS[4 + e * NB + j])
      for i = 1, #v, 2 do
        local f = v[i]
        local d = tonumber(string.sub(f, 2))
        if d and d >= from and d <= to then
          local k = day - d
          local x = tonumber(v[i + 1])
          if string.byte(f, 1) == 110 then -- 'n': claims
            for w = 1, W do if k < lens[w] then n[w] = n[w] + x end end
          else -- 'c': charged cents
            for w = 1, W do if k < lens[w] then c[w] = c[w] + x end end
          end
        end
      end
    end
  end
  for w = 1, W do out[#out + 1] = string.format('%d', n[w]); out[#out + 1] = string.format('%d', c[w]) end
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

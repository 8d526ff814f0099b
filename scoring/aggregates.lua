--[[
  Observes a run of claims for the entity aggregates, one after the other and atomically as a
  whole: for each claim in order, reads the aggregates of the claims observed before it, then adds
  it (scoring/aggregates.ts, RedisClaimAggregates, defines the semantics and the offline evaluator
  that must give the same integers).

  E = entities (2: billing provider, member), M = longest window in days, W = number of windows,
  B = days per block, NB = blocks passed per entity (enough to cover M days ending on any day),
  K = keys per claim = 4 + E*NB, N = claims in this call.

  Day buckets are grouped in blocks: one hash per entity and block of B service days
  (block = floor(day / B)), fields n<day> = claims and c<day> = charged cents. A window of up to
  M days then reads NB hashes instead of one key per day. Each block hash is read once per call
  (HGETALL) into a table by day, which this call's own increments keep current: a provider with
  many claims in the run costs one read, not one per claim; likewise each peer group bucket.

    Input:
      ARGV[1]                 key lifetime, seconds
      ARGV[2]                 E
      ARGV[3]                 M
      ARGV[4]                 W
      ARGV[5 .. 4 + W]        window lengths, days, ascending
      ARGV[5 + W]             B
      ARGV[6 + W]             NB
      ARGV[7 + W]             N
      then per claim i (0-based), at a = 8 + W + 4i:
        ARGV[a]               event id (stable across replays)
        ARGV[a + 1]           claim's charged amount, integer cents
        ARGV[a + 2]           billing provider NPI
        ARGV[a + 3]           the claim's service day (days since 1970-01-01)

      KEYS, per claim i at k = K*i:
        KEYS[k + 1]           seen:<eventId>      idempotency: the raw result of the first observation
        KEYS[k + 2]           dup:<fingerprint>   the event id that first had this duplicate fingerprint
                                                  (fingerprint: HMAC under the aggregate key)
        KEYS[k + 3]           md:<member ref>     set of the member's dup keys (ref: HMAC of the
                                                  member id), so erasure can find and delete them
        KEYS[k + 4 .. k + 3 + E*NB]  block hashes: entity e (0 provider, 1 member), block
                              floor((day - M + 1) / B) + j (j = 0 .. NB-1), at k + 4 + e*NB + j
        KEYS[k + 4 + E*NB]    peer group day bucket (hash fields '#n' = claims, 'p:<npi>' = claims
                              of that provider)

    Output:
      One string per claim, in order: the raw integers joined by commas: duplicate (0/1); per
      entity and window: claims, cents; then the peer group's claims and distinct providers on
      the day (all before this claim). Observing an event id again returns its first result and
      changes nothing.
]]
local ttl = tonumber(ARGV[1])
local E = tonumber(ARGV[2]); local M = tonumber(ARGV[3]); local W = tonumber(ARGV[4])
local lens = {}
for w = 1, W do lens[w] = tonumber(ARGV[4 + w]) end
local B = tonumber(ARGV[5 + W]); local NB = tonumber(ARGV[6 + W]); local N = tonumber(ARGV[7 + W])
local K = 4 + E * NB

-- Block hashes read in this call: key -> { n = {day -> claims}, c = {day -> cents} }.
local blocks = {}
local function block(key)
  local b = blocks[key]
  if b then return b end
  b = { n = {}, c = {} }
  local v = redis.call('HGETALL', key)
  for i = 1, #v, 2 do
    local f = v[i]
    local d = tonumber(string.sub(f, 2))
    if d then
      if string.byte(f, 1) == 110 then b.n[d] = tonumber(v[i + 1]) else b.c[d] = tonumber(v[i + 1]) end
    end
  end
  blocks[key] = b
  return b
end
-- Peer group day buckets read in this call: key -> { n = claims, providers = distinct providers }.
local peers = {}
-- Keys written in this call: each gets its lifetime once, at the end (same instant: the call is atomic).
local touched = {}

local results = {}
for i = 0, N - 1 do
  local k = K * i
  local a = 8 + W + 4 * i
  local seenKey = KEYS[k + 1]
  local prior = redis.call('GET', seenKey)
  if prior then
    results[i + 1] = prior
  else
    local eventId = ARGV[a]
    local day = tonumber(ARGV[a + 3])
    local out = {}
    local dupKey = KEYS[k + 2]
    local owner = redis.call('GET', dupKey)
    if owner and owner ~= eventId then out[1] = 1 else out[1] = 0 end
    if not owner then redis.call('SET', dupKey, eventId, 'EX', ttl) end
    redis.call('SADD', KEYS[k + 3], dupKey); touched[KEYS[k + 3]] = true
    local low = day - M + 1
    local firstBlock = math.floor(low / B)
    for e = 0, E - 1 do
      local n = {}; local c = {}
      for w = 1, W do n[w] = 0; c[w] = 0 end
      for j = 0, NB - 1 do
        local first = firstBlock + j
        local from = math.max(low, first * B); local to = math.min(day, first * B + B - 1)
        if from <= to then
          -- Only the days present (a member's blocks are sparse), those inside the window.
          local b = block(KEYS[k + 4 + e * NB + j])
          for d, x in pairs(b.n) do
            if d >= from and d <= to then for w = 1, W do if day - d < lens[w] then n[w] = n[w] + x end end end
          end
          for d, x in pairs(b.c) do
            if d >= from and d <= to then for w = 1, W do if day - d < lens[w] then c[w] = c[w] + x end end end
          end
        end
      end
      for w = 1, W do out[#out + 1] = string.format('%d', n[w]); out[#out + 1] = string.format('%d', c[w]) end
    end
    local peerKey = KEYS[k + 4 + E * NB]
    local peer = peers[peerKey]
    if not peer then
      local pn = tonumber(redis.call('HGET', peerKey, '#n')) or 0
      local pp = redis.call('HLEN', peerKey)
      if pn > 0 then pp = pp - 1 end
      peer = { n = pn, providers = pp }
      peers[peerKey] = peer
    end
    out[#out + 1] = string.format('%d', peer.n); out[#out + 1] = string.format('%d', peer.providers)
    local own = math.floor(day / B) - firstBlock
    local cents = tonumber(ARGV[a + 1])
    for e = 0, E - 1 do
      local key = KEYS[k + 4 + e * NB + own]
      local b = block(key)
      b.n[day] = (b.n[day] or 0) + 1; b.c[day] = (b.c[day] or 0) + cents
      redis.call('HINCRBY', key, 'n' .. day, 1); redis.call('HINCRBY', key, 'c' .. day, ARGV[a + 1]); touched[key] = true
    end
    redis.call('HINCRBY', peerKey, '#n', 1); peer.n = peer.n + 1
    -- A provider's first claim in the group that day adds a field: one more distinct provider.
    if redis.call('HINCRBY', peerKey, 'p:' .. ARGV[a + 2], 1) == 1 then peer.providers = peer.providers + 1 end
    touched[peerKey] = true
    local encoded = table.concat(out, ',')
    redis.call('SET', seenKey, encoded, 'EX', ttl)
    results[i + 1] = encoded
  end
end
for key in pairs(touched) do redis.call('EXPIRE', key, ttl) end
return results

-- Claims a batch from one shard, touching only the keys it declares (plan.lua said which); the inbox's and the held
-- list's heads are filed first (filing.lua comes before). KEYS: ready, oldest, leases, stats, the new batch, the
-- expired batches, then queue, data and time index of each event, then the inbox and the held list. ARGV: scope,
-- sharded flag, limit, lease ms, batch id, n, n expired batch ids, m, m event ids, how much of each list to file.
-- Returns {batch id, then for each event served: event id, count (an integer), then count × (registration id, entry)}.
local limit = tonumber(ARGV[3])
local batch = ARGV[5]
local now = now_ms()
local n_expired = tonumber(ARGV[6])
-- Each declared event → the position of its keys in KEYS: they are used as given (building the names again in Lua
-- cost a fifth of a microsecond each, three or more per event).
local declared = {}
local first_event = 8 + n_expired
for i = first_event, 7 + n_expired + tonumber(ARGV[7 + n_expired]) do
  declared[ARGV[i]] = 5 + n_expired + 3 * (i - first_event)
end
local function queue_of(e) return KEYS[declared[e] + 1] end
local function data_of(e) return KEYS[declared[e] + 2] end
local function time_of(e) return KEYS[declared[e] + 3] end
file_inbox(tonumber(ARGV[#ARGV]), function(e) return declared[e] and queue_of(e) end)

local function all_declared(members)
  for _, m in ipairs(members) do
    if not declared[split_member(m)] then return false end
  end
  return true
end

-- Batches whose lease ran out go back to the front of their events' queues, a few per call so one call stays
-- short however many flushers died. One whose registrations changed since the plan waits for the next claim.
for i = 7, 6 + n_expired do
  local old = ARGV[i]
  local deadline = redis.call('ZSCORE', K_LEASES, old)
  local members = deadline and tonumber(deadline) <= now and redis.call('LRANGE', KEYS[i - 1], 0, -1)
  if members and all_declared(members) then
    local back = 0
    -- Each event goes to the front of the round robin, and its oldest bound down to what came back, once.
    local first_back = {}
    for j = #members, 1, -1 do
      local e, id = split_member(members[j])
      local entry = redis.call('HGET', data_of(e), id)
      if entry then
        redis.call('LPUSH', queue_of(e), id)
        first_back[e] = entry
        back = back + 1
      end
    end
    for e, entry in pairs(first_back) do
      redis.call('ZADD', K_READY, 'LT', 0, e)
      local score = entry_ms(entry)
      if score then redis.call('ZADD', K_OLDEST, 'LT', score, e) end
    end
    redis.call('DEL', KEYS[i - 1])
    redis.call('ZREM', K_LEASES, old)
    redis.call('HINCRBY', K_STATS, 'in_flight', 0 - #members)
    redis.call('HINCRBY', K_STATS, 'redelivered', back)
  end
end

-- Round robin: the events served longest ago first, each a fair share, then what is left of the limit. An event
-- that became ready after the plan is served by the next claim.
local events = {}
for _, e in ipairs(redis.call('ZRANGE', K_READY, 0, limit - 1)) do
  if declared[e] then events[#events + 1] = e end
end
local out = {batch}
local members = {}
local taken = 0
local seq = 0
-- The reply holds each event's registrations as one run, `event, count, id1, entry1, id2, entry2, ...`: joining
-- them into one string per registration in Lua cost a tenth of the claim.
-- Numbers reach redis.call as strings made once: Lua turns a number argument into one by sprintf each time, which
-- showed in the claim's profile.
local share, share_arg
local drained = {}
local function take(e, n)
  local ids = redis.call('LPOP', queue_of(e), n == share and share_arg or n)
  -- Fewer than asked: the queue is empty now (settle need not look).
  drained[e] = not ids or #ids < n
  if not ids then return 0 end
  local run = #out + 2
  out[run - 1] = e
  out[run] = 0
  local count = 0
  local chunk = 500
  for from = 1, #ids, chunk do
    local upto = math.min(from + chunk - 1, #ids)
    local entries = redis.call('HMGET', data_of(e), unpack(ids, from, upto))
    for i = from, upto do
      local entry = entries[i - from + 1]
      if entry then
        members[#members + 1] = e .. ':' .. ids[i]
        out[#out + 1] = ids[i]
        out[#out + 1] = entry
        count = count + 1
      else
        -- The id outlived its data (evicted under a maxmemory policy other than noeviction).
        redis.call('ZREM', time_of(e), ids[i])
        redis.call('HINCRBY', K_STATS, 'lost', 1)
      end
    end
  end
  out[run] = count
  taken = taken + count
  return #ids
end
-- Each served event still pending goes to the back of the round robin; a drained one leaves both indexes. Its
-- entry in `oldest` is left as it was: a bound below its new head, which stats.lua corrects when it matters (only
-- stats reads `oldest`, and re-scoring it here cost a quarter of the claim). Collected first, so the indexes take
-- one ZADD or ZREM per chunk.
local ready_pairs, gone = {}, {}
local function settle(e)
  if not drained[e] and redis.call('LINDEX', queue_of(e), '0') then
    seq = seq + 1
    ready_pairs[#ready_pairs + 1] = string.format('%d', now * 1000 + seq)
    ready_pairs[#ready_pairs + 1] = e
  else
    gone[#gone + 1] = e
  end
end
local function in_chunks(command, key, list, step)
  for from = 1, #list, step do
    redis.call(command, key, unpack(list, from, math.min(from + step - 1, #list)))
  end
end
if #events > 0 then
  share = math.max(1, math.floor(limit / #events))
  share_arg = string.format('%d', share)
  local more = {}
  for _, e in ipairs(events) do
    if taken >= limit then break end
    local got = take(e, math.min(share, limit - taken))
    if got == share then more[#more + 1] = e end
  end
  for _, e in ipairs(more) do
    if taken >= limit then break end
    take(e, limit - taken)
  end
  for _, e in ipairs(events) do settle(e) end
  in_chunks('ZADD', K_READY, ready_pairs, 1000)
  in_chunks('ZREM', K_READY, gone, 500)
  in_chunks('ZREM', K_OLDEST, gone, 500)
end

if #members > 0 then
  for from = 1, #members, 500 do
    redis.call('RPUSH', KEYS[5], unpack(members, from, math.min(from + 499, #members)))
  end
  redis.call('ZADD', K_LEASES, string.format('%.0f', now + tonumber(ARGV[4])), batch)
  redis.call('HINCRBY', K_STATS, 'in_flight', #members)
  redis.call('HINCRBY', K_STATS, 'claimed', #members)
else
  out[1] = ''
end
return out

-- Statistics of one shard. KEYS: ready, oldest, stats, quarantine, epoch, inbox, held, then queue and data of each
-- event the caller declares (every key it reads, declared: see plan.lua). ARGV: scope, sharded flag, a new epoch,
-- then those event ids.
-- Returns {counters (flat hash), events, oldest score or false, quarantined, now ms, epoch, events to declare}.
-- The epoch names this shard's data: made by the first stats call and gone only with the data (a Redis restart
-- without persistence, a FLUSHALL), so a caller that sees it change knows buffered registrations may be lost.
-- `oldest` holds, for each event with pending registrations, a bound at or below the time of its queue's head: a
-- push sets it exactly, a redelivery lowers it, a claim leaves it behind the new head (re-scoring it there cost a
-- quarter of the claim). So its first entries are corrected here, from the top, until the least corrected score
-- is at or below the next uncorrected bound: then it is the oldest pending registration's time. Only declared
-- events can be corrected; when the walk needs more, the last item names the events to declare in the next call
-- (and the oldest score is still a bound: at or before the real one).
local WALK = 256
redis.call('SET', K_EPOCH, ARGV[3], 'NX')
local declared = {}
for i = 4, #ARGV do declared[ARGV[i]] = true end

-- Walks from the top, and stops as soon as the least corrected score is at or below the next entry's bound (every
-- entry further down is at or after that bound): when nothing is behind, that is after the first entry.
local span = math.min(#ARGV - 3, WALK)
local top = redis.call('ZRANGE', K_OLDEST, 0, span, 'WITHSCORES')
local least, bound, fixes, gone = nil, nil, {}, {}
for i = 1, #top, 2 do
  local e, stored = top[i], top[i + 1]
  if least and tonumber(least) <= tonumber(stored) then break end
  if not declared[e] or i > 2 * span then
    bound = stored
    break
  end
  local head = redis.call('LINDEX', k_queue(e), '0')
  if head then
    -- A queued id always has its time; should one not, its age counts from now rather than blocking the walk.
    local score = entry_ms(redis.call('HGET', k_data(e), head)) or string.format('%d', now_ms())
    if score ~= stored then
      fixes[#fixes + 1] = score
      fixes[#fixes + 1] = e
    end
    if not least or tonumber(score) < tonumber(least) then least = score end
  else
    gone[#gone + 1] = e
  end
end
if #fixes > 0 then redis.call('ZADD', K_OLDEST, 'XX', unpack(fixes)) end
if #gone > 0 then redis.call('ZREM', K_OLDEST, unpack(gone)) end

local oldest, more = false, {}
if not bound then
  oldest = least or false
else
  -- Not settled: the bound below everything not yet corrected, and the entries to correct next (a few at first:
  -- usually the first one is all it takes).
  oldest = (least and tonumber(least) < tonumber(bound)) and least or bound
  more = redis.call('ZRANGE', K_OLDEST, 0, (#ARGV > 3 and WALK or 16) - 1)
end
-- Registrations still in the inbox or the held list are pushed (file.lua counts them when it files them).
local counters = redis.call('HGETALL', K_STATS)
local unfiled = redis.call('LLEN', K_INBOX) + redis.call('LLEN', K_HELD)
if unfiled > 0 then
  local at = #counters + 1
  for i = 1, #counters, 2 do
    if counters[i] == 'pushed' then at = i end
  end
  counters[at], counters[at + 1] = 'pushed', string.format('%d', (tonumber(counters[at + 1]) or 0) + unfiled)
end
return {
  counters,
  redis.call('ZCARD', K_READY),
  oldest,
  redis.call('HLEN', K_QUARANTINE),
  now_ms(),
  redis.call('GET', K_EPOCH),
  more,
}

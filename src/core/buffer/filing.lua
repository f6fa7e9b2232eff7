-- Files the head of a shard's inbox (up to `max` registrations): each registration a push named there goes into its
-- event's queue and time index, and its event into the ready and oldest indexes, in push order, in one step with the
-- inbox's trim and the pushed counter. It stops at the first registration of an event whose keys were not declared
-- (`queue_of(e)` nil: the caller read the head first, see plan.lua and file.rs). Returns filed, left in the inbox.
-- The one filing code of file.lua and claim.lua.
local function file_inbox(max, queue_of, time_of)
  local members = redis.call('LRANGE', K_INBOX, 0, max - 1)
  local order, ids, scores, least = {}, {}, {}, {}
  local taken = 0
  for _, m in ipairs(members) do
    -- `<event>:<id>:<ms>` (keys.rs's push_inbox_member); one that is not is dropped rather than block the inbox.
    local e, id, score = string.match(m, '^(%d+):(.+):(%d+)$')
    if e and not queue_of(e) then break end
    taken = taken + 1
    if e then
      if not ids[e] then
        ids[e], scores[e], least[e] = {}, {}, score
        order[#order + 1] = e
      end
      local list, pairs_ = ids[e], scores[e]
      list[#list + 1] = id
      pairs_[#pairs_ + 1] = score
      pairs_[#pairs_ + 1] = id
      if tonumber(score) < tonumber(least[e]) then least[e] = score end
    end
  end
  if taken == 0 then return 0, redis.call('LLEN', K_INBOX) end
  local t = redis.call('TIME')
  local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local filed = 0
  for _, e in ipairs(order) do
    local queue, time, list, pairs_ = queue_of(e), time_of(e), ids[e], scores[e]
    for from = 1, #list, 500 do
      redis.call('RPUSH', queue, unpack(list, from, math.min(from + 499, #list)))
    end
    for from = 1, #pairs_, 1000 do
      redis.call('ZADD', time, unpack(pairs_, from, math.min(from + 999, #pairs_)))
    end
    -- An event not ready yet has waited since its oldest registration was pushed (no later than now, whatever the
    -- pushing host's clock said): it goes among the events served since, on the claims' µs scale. NX keeps the place
    -- of one already ready.
    redis.call('ZADD', K_READY, 'NX', string.format('%d', math.min(tonumber(least[e]) * 1000, now_us)), e)
    redis.call('ZADD', K_OLDEST, 'LT', least[e], e)
    filed = filed + #list
  end
  redis.call('LTRIM', K_INBOX, taken, -1)
  if filed > 0 then redis.call('HINCRBY', K_STATS, 'pushed', filed) end
  return filed, redis.call('LLEN', K_INBOX)
end

-- Writes one registration into its event's queue and data, and makes the event ready when its queue was empty (an
-- event is in the ready and oldest indexes exactly while its queue is not empty; ordered against served events by
-- the same Redis clock the claim uses). k: {queue, data, ready, oldest, stats}.
local function enqueue(k, id, entry, score, event)
  redis.call('HSET', k[2], id, entry)
  if redis.call('RPUSH', k[1], id) == 1 then
    local t = redis.call('TIME')
    redis.call('ZADD', k[3], t[1] .. string.format('%06d', tonumber(t[2])), event)
    redis.call('ZADD', k[4], score, event)
  end
  redis.call('HINCRBY', k[5], 'pushed', 1)
end

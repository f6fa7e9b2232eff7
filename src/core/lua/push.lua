-- Buffers one registration. KEYS: queue, data, time index, ready, oldest, stats[, unique marker]
-- ARGV: prefix, id, stored entry, score (registered_at ms), event id, max_pending, dedupe ttl, ready score
-- Returns 1 buffered, 0 duplicate, -1 at capacity. The id is always new (made by the extension just before).
local id = ARGV[2]
if KEYS[7] then
  -- A duplicate is a duplicate even when the buffer is full: check the marker before the cap.
  if redis.call('EXISTS', KEYS[7]) == 1 then
    redis.call('HINCRBY', KEYS[6], 'duplicates', 1)
    return 0
  end
end
local max = tonumber(ARGV[6])
if max > 0 and tonumber(redis.call('HGET', KEYS[6], 'buffered') or '0') >= max then return -1 end
if KEYS[7] then redis.call('SET', KEYS[7], id, 'EX', ARGV[7]) end
redis.call('HSET', KEYS[2], id, ARGV[3])
redis.call('RPUSH', KEYS[1], id)
redis.call('ZADD', KEYS[3], ARGV[4], id)
redis.call('ZADD', KEYS[4], 'NX', ARGV[8], ARGV[5])
redis.call('ZADD', KEYS[5], 'NX', ARGV[4], ARGV[5])
redis.call('HINCRBY', KEYS[6], 'buffered', 1)
redis.call('HINCRBY', KEYS[6], 'pushed', 1)
return 1

-- Buffers one registration. KEYS: queue, data, time index, ready, oldest, stats[, unique marker]
-- ARGV: prefix, id, stored entry, score (registered_at ms), event id, max_pending, dedupe ttl, repeat (1 when this
-- push is sent again on a new connection after the first attempt's connection broke)
-- Returns 1 buffered (or already buffered under this id: a push repeated on a new connection), 0 duplicate,
-- -1 at capacity.
local id = ARGV[2]
if ARGV[8] == '1' and redis.call('HEXISTS', KEYS[2], id) == 1 then return 1 end
if KEYS[7] then
  -- A duplicate is a duplicate even when the buffer is full: check the marker before the cap.
  local holder = redis.call('GET', KEYS[7])
  if holder == id then return 1 end            -- this very push, repeated after its registration was flushed
  if holder then
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
if not redis.call('ZSCORE', KEYS[4], ARGV[5]) then
  -- Newly ready: ordered against served events by the same (Redis) clock the claim uses. An event that is
  -- already ready is in the oldest index too, with an older registration.
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[4], t[1] .. string.format('%06d', tonumber(t[2])), ARGV[5])
  redis.call('ZADD', KEYS[5], 'NX', ARGV[4], ARGV[5])
end
redis.call('HINCRBY', KEYS[6], 'buffered', 1)
redis.call('HINCRBY', KEYS[6], 'pushed', 1)
return 1

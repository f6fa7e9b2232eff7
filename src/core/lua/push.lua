-- Buffers one registration (enqueue.lua comes first). KEYS: queue, data, time index, ready, oldest, stats[, unique marker][, use counter]
-- ARGV: scope, id, stored entry, score (registered_at ms), event id, max_pending, dedupe ttl, repeat (1 when this
-- push is sent again on a new connection after the first attempt's connection broke), has marker (1/0), use limit
-- (0: none), use counter expiry (unix seconds)
-- Returns 1 buffered (or already buffered under this id: a push repeated on a new connection), 0 duplicate,
-- -1 at capacity, -2 the use limit is used up.
local id = ARGV[2]
if ARGV[8] == '1' and redis.call('HEXISTS', KEYS[2], id) == 1 then return 1 end
local marker = ARGV[9] == '1' and KEYS[7] or nil
local uses = tonumber(ARGV[10])
if marker then
  -- A duplicate is a duplicate even when the buffer is full: check the marker before the cap.
  local holder = redis.call('GET', marker)
  if holder == id then return 1 end            -- this very push, repeated after its registration was flushed
  if holder then
    redis.call('HINCRBY', KEYS[6], 'duplicates', 1)
    return 0
  end
end
if uses > 0 and tonumber(redis.call('GET', KEYS[#KEYS]) or '0') >= uses then return -2 end
local max = tonumber(ARGV[6])
if max > 0 then
  -- Buffered now = pushed - acked - lost - dropped (kept as separate counters so a push increments only one).
  local c = redis.call('HMGET', KEYS[6], 'pushed', 'acked', 'lost', 'dropped')
  local buffered = (tonumber(c[1]) or 0) - (tonumber(c[2]) or 0) - (tonumber(c[3]) or 0) - (tonumber(c[4]) or 0)
  if buffered >= max then return -1 end
end
if marker then redis.call('SET', marker, id, 'EX', ARGV[7]) end
if uses > 0 then
  -- Counted only when the registration is taken: a duplicate, a full buffer or a failed call uses nothing.
  redis.call('INCR', KEYS[#KEYS])
  redis.call('EXPIREAT', KEYS[#KEYS], ARGV[11])
end
enqueue(KEYS, id, ARGV[3], ARGV[4], ARGV[5])
return 1

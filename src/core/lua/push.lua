-- Buffers one registration (enqueue.lua comes first). KEYS: queue, data, time index, ready, oldest, stats[, unique
-- marker][, use counter]. ARGV: id, stored entry, score (registered_at ms), event id, max_pending, repeat (1 when
-- this push is sent again on a new connection after the first attempt's connection broke), dedupe ttl[, use limit,
-- use counter expiry (unix seconds)]. The use counter is passed exactly when its two arguments are; the unique
-- marker exactly when a key is left for it.
-- Returns 1 buffered (or already buffered under this id: a push repeated on a new connection), 0 duplicate,
-- -1 at capacity, -2 the use limit is used up.
local id = ARGV[1]
if ARGV[6] == '1' and redis.call('HEXISTS', KEYS[2], id) == 1 then return 1 end
local counter = ARGV[8] and KEYS[#KEYS]
local marker = #KEYS == (counter and 8 or 7) and KEYS[7]
if marker then
  -- Taken and read in one call (SET NX GET). A duplicate is a duplicate even when the buffer is full: the marker
  -- is checked before the cap, and given back below if this push is refused after all.
  local holder = redis.call('SET', marker, id, 'NX', 'GET', 'EX', ARGV[7])
  if holder == id then return 1 end            -- this very push, repeated after its registration was flushed
  if holder then
    redis.call('HINCRBY', KEYS[6], 'duplicates', 1)
    return 0
  end
end
local refused
local used = counter and tonumber(redis.call('GET', counter) or '0')
if counter and used >= tonumber(ARGV[8]) then
  refused = -2
else
  local max = tonumber(ARGV[5])
  if max > 0 then
    -- Buffered now = pushed - acked - lost - dropped (kept as separate counters so a push increments only one).
    local c = redis.call('HMGET', KEYS[6], 'pushed', 'acked', 'lost', 'dropped')
    local buffered = (tonumber(c[1]) or 0) - (tonumber(c[2]) or 0) - (tonumber(c[3]) or 0) - (tonumber(c[4]) or 0)
    if buffered >= max then refused = -1 end
  end
end
if refused then
  -- The marker did not exist before this push took it: deleting it leaves Redis as it was.
  if marker then redis.call('DEL', marker) end
  return refused
end
if counter then
  -- Counted only when the registration is taken: a duplicate, a full buffer or a failed call uses nothing. The
  -- first use sets the counter's expiry (the token's own, the same on every use).
  if used == 0 then
    redis.call('SET', counter, 1, 'EXAT', ARGV[9])
  else
    redis.call('INCR', counter)
  end
end
enqueue(KEYS, id, ARGV[2], ARGV[3], ARGV[4])
return 1

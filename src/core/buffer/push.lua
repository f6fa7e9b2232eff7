-- Buffers one registration (enqueue.lua and rate.lua come first). KEYS: queue, data, time index, ready, oldest, stats[, unique
-- marker][, use counter][, rate counter]. ARGV: id, stored entry, score (registered_at ms), event id, max_pending,
-- repeat (1 when this push is sent again on a new connection after the first attempt's connection broke), dedupe
-- ttl, use limit, use counter expiry (unix seconds), rate limit, rate window (seconds). The use counter is passed
-- exactly when its two arguments are not empty, the rate counter likewise; the unique marker exactly when a key is
-- left for it.
-- Checks in this order: repeat, rate limit, use limit, unique marker, cap; only then writes.
-- Returns 1 buffered (or already buffered under this id: a push repeated on a new connection), 0 duplicate,
-- -1 at capacity, -2 the use limit is used up (or expired), {-3, seconds left in the window} over the rate limit.
local id = ARGV[1]
local repeated = ARGV[6] == '1'
local has_counter, has_rate = ARGV[8] ~= '', ARGV[10] ~= ''
local n = 7
local marker = #KEYS == 7 + (has_counter and 1 or 0) + (has_rate and 1 or 0) and KEYS[7]
if marker then n = 8 end
local counter = has_counter and KEYS[n]
if counter then n = n + 1 end
local rate = has_rate and KEYS[n]
-- A repeat whose first attempt was buffered (still here, or flushed and still named by its marker) is that push.
if repeated then
  if redis.call('HEXISTS', KEYS[2], id) == 1 then return 1 end
  if marker and redis.call('GET', marker) == id then return 1 end
end
local now = (rate or counter) and tonumber(redis.call('TIME')[1])
-- Every push of the client counts, whatever its answer, except a repeat (its first attempt counted). Fixed
-- windows aligned on Redis's clock: the counter expires when its window ends.
if rate and not repeated then
  local count, ends = count_hit(rate, tonumber(ARGV[11]), now)
  if count > tonumber(ARGV[10]) then return {-3, ends - now} end
end
-- The use limit before the marker: a used-up token must not tell whether a key is registered.
local used
if counter then
  -- A token whose expiry is already past (Redis's clock) is used up: SET … EXAT <past> would limit nothing.
  if tonumber(ARGV[9]) <= now then return -2 end
  used = tonumber(redis.call('GET', counter) or '0')
  if used >= tonumber(ARGV[8]) then return -2 end
end
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
local max = tonumber(ARGV[5])
if max > 0 then
  -- Buffered now = pushed - acked - lost - dropped (kept as separate counters so a push increments only one).
  local c = redis.call('HMGET', KEYS[6], 'pushed', 'acked', 'lost', 'dropped')
  local buffered = (tonumber(c[1]) or 0) - (tonumber(c[2]) or 0) - (tonumber(c[3]) or 0) - (tonumber(c[4]) or 0)
  if buffered >= max then
    -- The marker did not exist before this push took it: deleting it leaves Redis as it was.
    if marker then redis.call('DEL', marker) end
    return -1
  end
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

-- Buffers one registration (rate.lua and seats.lua come first): writes its data and names it in the shard's inbox,
-- which claim and stats file into the event's queue (filing.lua). KEYS: data, inbox, stats, held (read for the
-- cap)[, unique marker][, use counter][, rate counter][, seats]. ARGV: id, stored entry, score (registered_at ms), event id, max_pending, repeat
-- (1 when this push is sent again on a new connection after the first attempt's connection broke), dedupe ttl, use
-- limit, use counter expiry (unix seconds), rate limit, rate window (seconds), capacity, waitlist (1 or 0). The use
-- counter is passed exactly when its two arguments are not empty, the rate counter and the seats likewise; the
-- unique marker exactly when a key is left for it.
-- Checks in this order: repeat, rate limit, use limit, unique marker, seats, cap; only then writes.
-- Returns 1 buffered (or already buffered under this id: a push repeated on a new connection), or {1, registrations
-- buffered now} when there is a cap; 0 duplicate, -1 at capacity, -2 the use limit is used up (or expired), {-3,
-- seconds left in the window} over the rate limit.
-- With seats: {1, 1 when waitlisted, taken, waiting} buffered, {0, 0, taken, waiting} a duplicate (0 when the count
-- is not known), {-5, taken, waiting} sold out, -6 the count is not known.
local id = ARGV[1]
local repeated = ARGV[6] == '1'
local has_counter, has_rate, has_seats = ARGV[8] ~= '', ARGV[10] ~= '', ARGV[12] ~= ''
local n = 5
local marker = #KEYS == 5 + (has_counter and 1 or 0) + (has_rate and 1 or 0) + (has_seats and 1 or 0) and KEYS[5]
if marker then n = 6 end
local counter = has_counter and KEYS[n]
if counter then n = n + 1 end
local rate = has_rate and KEYS[n]
if rate then n = n + 1 end
local seats = has_seats and KEYS[n]
-- What a push to an event with seats answers once it is buffered: its place, and the count.
local function booked(waitlisted)
  if not seats then return 1 end
  local count = seats_read(seats) or {0, 0}
  return {1, waitlisted and 1 or 0, count[1], count[2]}
end
-- A repeat whose first attempt was buffered (still here, or flushed and still named by its marker) is that push.
if repeated then
  local entry = redis.call('HGET', KEYS[1], id)
  if entry then return booked(string.byte(entry) == 119) end   -- 'w': codec.rs's WAITLISTED_TAG
  if marker then
    -- The marker names it (flushed, or a script push) or holds it (a transaction push not filed yet: codec.rs's
    -- write_held, `<id>:…`).
    local holder = redis.call('GET', marker)
    if holder == id or (holder and string.sub(holder, 1, #id + 1) == id .. ':') then return booked(false) end
  end
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
  if holder == id then return booked(false) end  -- this very push, repeated after its registration was flushed
  if holder then
    redis.call('HINCRBY', KEYS[3], 'duplicates', 1)
    if not seats then return 0 end
    local count = seats_read(seats)
    return count and {0, 0, count[1], count[2]} or 0
  end
end
-- The seat is decided before the cap (sold out is the answer even when the buffer is full) and taken after it.
local count, place
if seats then
  count = seats_read(seats)
  if not count then
    if marker then redis.call('DEL', marker) end
    return -6
  end
  place = seats_place(count, tonumber(ARGV[12]), ARGV[13] == '1')
  if not place then
    if marker then redis.call('DEL', marker) end
    return {-5, count[1], count[2]}
  end
end
local max = tonumber(ARGV[5])
local buffered
if max > 0 then
  -- Buffered now = filed (pushed) + the inbox + the held list - acked - lost - dropped: counters a push need not
  -- write.
  local c = redis.call('HMGET', KEYS[3], 'pushed', 'acked', 'lost', 'dropped')
  buffered = (tonumber(c[1]) or 0) + redis.call('LLEN', KEYS[2]) + redis.call('LLEN', KEYS[4])
    - (tonumber(c[2]) or 0) - (tonumber(c[3]) or 0) - (tonumber(c[4]) or 0)
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
local entry = ARGV[2]
if place then
  seats_take(seats, count, place)
  -- A waitlisted registration is stored with codec.rs's tag 'w' for the '1' the caller wrote.
  if place == 'w' then entry = 'w' .. string.sub(entry, 2) end
end
redis.call('HSET', KEYS[1], id, entry)
redis.call('RPUSH', KEYS[2], ARGV[4] .. ':' .. id .. ':' .. ARGV[3])   -- keys.rs's push_inbox_member
if place then return {1, place == 'w' and 1 or 0, count[1], count[2]} end
if buffered then return {1, buffered + 1} end
return 1

-- Gives back the place of a cancelled registration. KEYS: seats. ARGV: 1 when it was waitlisted, the capacity (''
-- when the caller does not say). Returns 'unlisted' (a waiter left), 'promote' (a seat left and passes to the first
-- waiter: the caller promotes its oldest waitlisted registration), 'freed' (nobody waits, or the event holds more
-- than its capacity now), or 'unknown' (no known count: the next seed counts the store).
local count = seats_read(KEYS[1])
if not count then return 'unknown' end
if ARGV[1] == '1' then
  if count[2] > 0 then redis.call('HINCRBY', KEYS[1], 'waiting', -1) end
  return 'unlisted'
end
local capacity = tonumber(ARGV[2])
if count[2] > 0 and not (capacity and count[1] > capacity) then
  redis.call('HINCRBY', KEYS[1], 'waiting', -1)
  return 'promote'
end
if count[1] > 0 then redis.call('HINCRBY', KEYS[1], 'taken', -1) end
return 'freed'

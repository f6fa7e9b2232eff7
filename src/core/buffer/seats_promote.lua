-- Seats added (a capacity raised) go to the waiters first. KEYS: seats. ARGV: capacity. Returns how many waiters now
-- hold a seat (the caller promotes that many of its oldest waitlisted registrations), or -6 when not known.
local count = seats_read(KEYS[1])
if not count then return -6 end
local n = math.min(math.max(tonumber(ARGV[1]) - count[1], 0), count[2])
if n > 0 then
  redis.call('HINCRBY', KEYS[1], 'taken', n)
  redis.call('HINCRBY', KEYS[1], 'waiting', -n)
end
return n

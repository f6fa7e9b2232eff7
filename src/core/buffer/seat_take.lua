-- Takes a seat (or a waitlist place) without buffering anything: for a registration the caller stores itself.
-- KEYS: seats. ARGV: capacity, waitlist (1 or 0). Returns {1 when waitlisted, taken, waiting}, {-5, taken, waiting}
-- sold out, or -6 when the count is not known.
local count = seats_read(KEYS[1])
if not count then return -6 end
local place = seats_place(count, tonumber(ARGV[1]), ARGV[2] == '1')
if not place then return {-5, count[1], count[2]} end
seats_take(KEYS[1], count, place)
return {place == 'w' and 1 or 0, count[1], count[2]}

-- The event's count. KEYS: seats. Returns {1, taken, waiting} when known, else {0, 0, 0}.
local count = seats_read(KEYS[1])
if not count then return {0, 0, 0} end
return {1, count[1], count[2]}

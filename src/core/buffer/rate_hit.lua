-- Counts one hit of a client (rate.lua comes first). KEYS: the client's rate counter. ARGV: window (seconds).
-- Returns {count including this hit, Unix second the window ends, Redis's now (Unix seconds)}.
local now = tonumber(redis.call('TIME')[1])
local count, ends = count_hit(KEYS[1], tonumber(ARGV[1]), now)
return {count, ends, now}

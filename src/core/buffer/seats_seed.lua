-- Sets the count the caller established from its store, unless the count is known (another process seeded it first,
-- and bookings may have followed: that count stands). KEYS: seats. ARGV: taken, waiting. Returns 1 set, 0 known.
if seats_read(KEYS[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'run', server_run(), 'taken', ARGV[1], 'waiting', ARGV[2])
return 1

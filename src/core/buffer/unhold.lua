-- Removes the held list's entry a duplicate's transaction push wrote (its marker holds another registration), and
-- counts the duplicate, once: a filing that got to the entry first dropped and counted it. KEYS: held, stats.
-- ARGV: the entry.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[2], 'duplicates', 1) end
return 1

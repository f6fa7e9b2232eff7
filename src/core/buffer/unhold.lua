-- Removes the held list's entry a duplicate's transaction push wrote (its marker holds another registration), and
-- counts the duplicate (ARGV[2] = 1) once: a filing that got to the entry first dropped and counted it. A push sent
-- again on a new connection (counted by push.lua) passes 0. KEYS: held, stats. ARGV: the entry, whether to count.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 1 and ARGV[2] == '1' then
  redis.call('HINCRBY', KEYS[2], 'duplicates', 1)
end
return 1

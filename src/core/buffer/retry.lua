-- Buffers a quarantined registration again and removes its quarantine entry, in one step (enqueue.lua comes
-- first). KEYS: queue, data, ready, oldest, stats, quarantine[, unique marker]. ARGV: scope, entry
-- (`<e>:<old id>`), old id, new id, stored entry, score, event id, dedupe ttl.
-- Returns 1 buffered, 0 duplicate (another registration holds the unique key: the entry stays), -3 no such entry.
if redis.call('HEXISTS', KEYS[6], ARGV[2]) == 0 then return -3 end
if KEYS[7] then
  -- The marker still naming the quarantined registration is its own: it passes to the new id.
  local holder = redis.call('GET', KEYS[7])
  if holder and holder ~= ARGV[3] then return 0 end
  redis.call('SET', KEYS[7], ARGV[4], 'EX', ARGV[8])
end
enqueue(KEYS, ARGV[4], ARGV[5], ARGV[6], ARGV[7])
-- It keeps its time, older than what was queued after it: it goes first, and the oldest index's bound covers it.
redis.call('LREM', KEYS[1], -1, ARGV[4])
redis.call('LPUSH', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[4], 'LT', ARGV[6], ARGV[7])
redis.call('HDEL', KEYS[6], ARGV[2])
redis.call('HINCRBY', KEYS[5], 'retried', 1)
return 1

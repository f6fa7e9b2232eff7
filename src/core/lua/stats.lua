-- Statistics of one shard. KEYS: ready, oldest, stats, quarantine, epoch (every key it reads, declared: see
-- plan.lua). ARGV: scope, sharded flag, a new epoch.
-- Returns {counters (flat hash), events, oldest score or false, quarantined, now ms, epoch}.
-- The epoch names this shard's data: made by the first stats call and gone only with the data (a Redis restart
-- without persistence, a FLUSHALL), so a caller that sees it change knows buffered registrations may be lost.
redis.call('SET', K_EPOCH, ARGV[3], 'NX')
local oldest = redis.call('ZRANGE', K_OLDEST, 0, 0, 'WITHSCORES')
return {
  redis.call('HGETALL', K_STATS),
  redis.call('ZCARD', K_READY),
  oldest[2] or false,
  redis.call('HLEN', K_QUARANTINE),
  now_ms(),
  redis.call('GET', K_EPOCH),
}

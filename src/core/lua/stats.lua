-- Statistics of one shard. KEYS: the shard's ready index (routes the call). ARGV: scope, sharded flag. Returns {counters (flat hash), events, oldest score or false, quarantined, now ms}.
local oldest = redis.call('ZRANGE', K_OLDEST, 0, 0, 'WITHSCORES')
return {
  redis.call('HGETALL', K_STATS),
  redis.call('ZCARD', K_READY),
  oldest[2] or false,
  redis.call('HLEN', K_QUARANTINE),
  now_ms(),
}

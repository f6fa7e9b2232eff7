-- What a claim of one shard will touch, read first so that the claim can declare every key: during a slot move
-- Redis redirects a script (-ASK, -TRYAGAIN) only by the keys it declares, and a script that builds key names
-- itself would find them missing on the source. KEYS: ready, leases, inbox, held. ARGV: scope, sharded flag, limit,
-- how much of each list the claim files. Returns {events to serve, expired batches (a few), the events of their
-- registrations, the events of the inbox's and the held list's heads, the longer list's length}.
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', string.format('%.0f', now), 'LIMIT', 0, 8)
local seen, expired_events = {}, {}
for _, old in ipairs(expired) do
  for _, m in ipairs(redis.call('LRANGE', k_batch(old), 0, -1)) do
    local e = split_member(m)
    if not seen[e] then
      seen[e] = true
      expired_events[#expired_events + 1] = e
    end
  end
end
local inbox_events = {}
seen = {}
for _, list in ipairs({K_INBOX, K_HELD}) do
  for _, m in ipairs(redis.call('LRANGE', list, 0, tonumber(ARGV[4]) - 1)) do
    local e = inbox_entry(m)
    if e and not seen[e] then
      seen[e] = true
      inbox_events[#inbox_events + 1] = e
    end
  end
end
return {redis.call('ZRANGE', K_READY, 0, tonumber(ARGV[3]) - 1), expired, expired_events, inbox_events,
  math.max(redis.call('LLEN', K_INBOX), redis.call('LLEN', K_HELD))}

-- Moves the oldest elements of a legacy list into the buffer, atomically. KEYS: legacy list, queue, data, ready,
-- oldest, stats, quarantine. ARGV: scope, sharded flag, event id, n, then n × (expected element, id, entry or '',
-- score, reason), oldest element first. Returns how many were buffered (malformed ones go to the quarantine), or -1
-- when the list's tail is no longer what the caller read (someone else took it): the caller reads again.
local n = tonumber(ARGV[4])
local tail = redis.call('LRANGE', KEYS[1], -n, -1)
if #tail ~= n then return -1 end
for i = 1, n do
  -- tail[n] is the oldest (the legacy snippet LPUSHed); ARGV lists oldest first.
  if tail[n - i + 1] ~= ARGV[5 + (i - 1) * 5] then return -1 end
end
redis.call('LTRIM', KEYS[1], 0, -(n + 1))
local buffered = 0
for i = 1, n do
  local b = 5 + (i - 1) * 5
  local id, entry, score = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  if entry == '' then
    redis.call('HSET', KEYS[7], ARGV[3] .. ':' .. id, ARGV[b + 4] .. '\n' .. ARGV[b])
    redis.call('HINCRBY', KEYS[6], 'quarantined', 1)
  else
    redis.call('HSET', KEYS[3], id, entry)
    redis.call('RPUSH', KEYS[2], id)
    redis.call('ZADD', KEYS[4], 'NX', string.format('%.0f', tonumber(score) * 1000), ARGV[3])
    redis.call('ZADD', KEYS[5], 'LT', score, ARGV[3])
    buffered = buffered + 1
  end
end
redis.call('HINCRBY', KEYS[6], 'pushed', buffered)
return buffered

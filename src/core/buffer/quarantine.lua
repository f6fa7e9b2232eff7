-- Moves claimed registrations that cannot be decoded out of the way. KEYS: the batch, quarantine, stats, then
-- data and time index of each member's event (declared: see plan.lua). ARGV: scope, sharded flag, batch id, then
-- (member, reason) pairs. Returns how many were quarantined.
local moved = 0
for i = 4, #ARGV, 2 do
  local e, id = split_member(ARGV[i])
  local entry = redis.call('HGET', k_data(e), id)
  if entry then
    redis.call('HSET', K_QUARANTINE, ARGV[i], ARGV[i + 1] .. '\n' .. entry)
    redis.call('HDEL', k_data(e), id)
    redis.call('ZREM', k_time(e), id)
    moved = moved + 1
  end
  if redis.call('LREM', k_batch(ARGV[3]), 1, ARGV[i]) == 1 then
    redis.call('HINCRBY', K_STATS, 'in_flight', -1)
  end
end
redis.call('HINCRBY', K_STATS, 'quarantined', moved)
redis.call('HINCRBY', K_STATS, 'dropped', moved)
return moved

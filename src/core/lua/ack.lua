-- Acknowledges a batch: its registrations leave Redis. KEYS: the shard's ready index (routes the call).
-- ARGV: scope, sharded flag, batch id. Returns how many were removed.
local members = redis.call('LRANGE', k_batch(ARGV[3]), 0, -1)
if #members == 0 then return 0 end
-- One HDEL and one ZREM per event (in chunks), not per registration.
local ids_of, events = {}, {}
for _, m in ipairs(members) do
  local e, id = split_member(m)
  local ids = ids_of[e]
  if not ids then
    ids = {}
    ids_of[e] = ids
    events[#events + 1] = e
  end
  ids[#ids + 1] = id
end
local removed = 0
for _, e in ipairs(events) do
  local ids = ids_of[e]
  for from = 1, #ids, 500 do
    local upto = math.min(from + 499, #ids)
    removed = removed + redis.call('HDEL', k_data(e), unpack(ids, from, upto))
    redis.call('ZREM', k_time(e), unpack(ids, from, upto))
  end
end
redis.call('DEL', k_batch(ARGV[3]))
redis.call('ZREM', K_LEASES, ARGV[3])
redis.call('HINCRBY', K_STATS, 'in_flight', 0 - #members)
redis.call('HINCRBY', K_STATS, 'acked', removed)
redis.call('HSET', K_STATS, 'last_ack_ms', string.format('%.0f', now_ms()))
return removed

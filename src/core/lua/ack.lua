-- Acknowledges a batch: its registrations leave Redis. KEYS: the batch, leases, stats, then data and time index of
-- each event the caller read in the batch (every key is declared: see plan.lua). ARGV: scope, sharded flag, batch id,
-- then those event ids. Returns how many were removed, or -1 when the batch holds an event not declared (it
-- changed since it was read: the caller reads it again).
local members = redis.call('LRANGE', KEYS[1], 0, -1)
if #members == 0 then return 0 end
-- One HDEL and one ZREM per event (in chunks), not per registration; each member is split once.
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
-- Each declared event → the position of its data key in KEYS (its time index follows): used as given.
local declared = {}
for i = 4, #ARGV do declared[ARGV[i]] = 2 * i - 4 end
for _, e in ipairs(events) do
  if not declared[e] then return -1 end
end
local removed = 0
for _, e in ipairs(events) do
  local ids = ids_of[e]
  for from = 1, #ids, 500 do
    local upto = math.min(from + 499, #ids)
    removed = removed + redis.call('HDEL', KEYS[declared[e]], unpack(ids, from, upto))
    redis.call('ZREM', KEYS[declared[e] + 1], unpack(ids, from, upto))
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', K_LEASES, ARGV[3])
redis.call('HINCRBY', K_STATS, 'in_flight', 0 - #members)
redis.call('HINCRBY', K_STATS, 'acked', removed)
redis.call('HSET', K_STATS, 'last_ack_ms', string.format('%.0f', now_ms()))
return removed

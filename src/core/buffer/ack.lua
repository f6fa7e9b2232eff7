-- Acknowledges a batch: its registrations leave Redis. KEYS: the batch, leases, stats, then data and time index of
-- each event the caller read in the batch (every key is declared: see plan.lua). ARGV: scope, sharded flag, batch id,
-- how many registrations the caller read in the batch, then for each of those events: event id, count, its
-- registration ids. Returns how many were removed, or -1 when the batch is no longer what the caller read (the
-- caller reads it again).
-- The caller's ids are used as given (splitting the batch's members in Lua cost a quarter of the ack). A batch is
-- written once by its claim and afterwards only shrinks (quarantine) or goes (ack, redelivery), and its id is never
-- made again, so one of the length the caller read is the batch it read: there is an element at n - 1 and none at n.
local n = tonumber(ARGV[4])
local tail = redis.call('LRANGE', KEYS[1], n - 1, n)
if #tail ~= 1 then
  if redis.call('LRANGE', KEYS[1], 0, 0)[1] then return -1 end
  return 0
end
-- One HDEL and one ZREM per event (in chunks of 500), not per registration.
local removed, i, k = 0, 5, 4
while i <= #ARGV do
  local last = i + 1 + tonumber(ARGV[i + 1])
  for from = i + 2, last, 500 do
    local upto = math.min(from + 499, last)
    removed = removed + redis.call('HDEL', KEYS[k], unpack(ARGV, from, upto))
    redis.call('ZREM', KEYS[k + 1], unpack(ARGV, from, upto))
  end
  i = last + 1
  k = k + 2
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', K_LEASES, ARGV[3])
redis.call('HINCRBY', K_STATS, 'in_flight', 0 - n)
redis.call('HINCRBY', K_STATS, 'acked', removed)
redis.call('HSET', K_STATS, 'last_ack_ms', string.format('%.0f', now_ms()))
return removed

-- Still-buffered registrations of one event in a time range. KEYS: time index, data. ARGV: scope, sharded flag, from ms,
-- to ms, limit. Returns {id1, entry1, ...}, oldest first.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[3], ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))
local out = {}
for from = 1, #ids, 500 do
  local upto = math.min(from + 499, #ids)
  local entries = redis.call('HMGET', KEYS[2], unpack(ids, from, upto))
  for i = from, upto do
    local entry = entries[i - from + 1]
    if entry then out[#out + 1] = ids[i]; out[#out + 1] = entry end
  end
end
return out

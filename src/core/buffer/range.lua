-- Still-buffered registrations of one event in a time range. KEYS: time index, data. ARGV: scope, sharded flag, the
-- scores to scan (from ms, to ms, or -inf/+inf), the exact bounds in µs ('' for none), limit. The index's scores are
-- at or below each registration's time (whole ms), so the scan may pass a few just outside the range: each entry's
-- own time (`1:<µs>:…`) decides. Returns {id1, entry1, ...}, oldest first.
local from_us, to_us = tonumber(ARGV[5]), tonumber(ARGV[6])
local limit = tonumber(ARGV[7])
local out = {}
local taken, offset = 0, 0
while taken < limit do
  local want = limit - taken
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[3], ARGV[4], 'LIMIT', offset, want)
  offset = offset + #ids
  for from = 1, #ids, 500 do
    local upto = math.min(from + 499, #ids)
    local entries = redis.call('HMGET', KEYS[2], unpack(ids, from, upto))
    for i = from, upto do
      local entry = entries[i - from + 1]
      if entry then
        -- An entry whose time cannot be read is passed on: the caller skips what it cannot decode.
        local us = tonumber(string.match(entry, '^[1w]:(%d+):'))
        if not us or ((not from_us or us >= from_us) and (not to_us or us <= to_us)) then
          out[#out + 1] = ids[i]
          out[#out + 1] = entry
          taken = taken + 1
        end
      end
    end
  end
  if #ids < want then break end
end
return out

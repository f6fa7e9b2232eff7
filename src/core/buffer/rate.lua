-- Counts one hit of a client in its fixed window of `window` seconds, aligned on Redis's clock (`now`, Unix
-- seconds): the counter expires when the window ends. Returns the count including this hit, and when the window
-- ends (Unix seconds). The one counting code of push.lua's rate limit and of rate_hit.lua.
local function count_hit(key, window, now)
  local ends = now - now % window + window
  local count = 1
  if not redis.call('SET', key, 1, 'NX', 'EXAT', ends) then count = redis.call('INCR', key) end
  return count, ends
end

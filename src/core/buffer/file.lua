-- Files the head of a shard's inbox (filing.lua comes first). KEYS: inbox, ready, oldest, stats, then queue and time
-- index of each event of the head. ARGV: scope, sharded flag, at most how many, m, m event ids.
-- Returns {filed, left in the inbox}.
local declared = {}
for i = 5, 4 + tonumber(ARGV[4]) do declared[ARGV[i]] = 2 * i - 5 end
local filed, left = file_inbox(tonumber(ARGV[3]),
  function(e) return declared[e] and KEYS[declared[e]] end,
  function(e) return KEYS[declared[e] + 1] end)
return {filed, left}

-- Files the head of a shard's inbox (filing.lua comes first). KEYS: inbox, ready, oldest, stats, then the queue of each
-- event of the head. ARGV: scope, sharded flag, at most how many, m, m event ids.
-- Returns {filed, left in the inbox}.
local declared = {}
for i = 5, 4 + tonumber(ARGV[4]) do declared[ARGV[i]] = KEYS[i] end
local filed, left = file_inbox(tonumber(ARGV[3]), function(e) return declared[e] end)
return {filed, left}

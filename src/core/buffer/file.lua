-- Files the heads of a shard's inbox and held list (filing.lua comes first). KEYS: inbox, ready, oldest, stats, the
-- queue of each event of the heads, then the held list (a held registration moves into its event's data, a key
-- built here: only one server's pushes hold registrations). ARGV: scope, sharded flag, at most how many from each
-- list, m, m event ids. Returns {filed, left in both lists}.
local declared = {}
for i = 5, 4 + tonumber(ARGV[4]) do declared[ARGV[i]] = KEYS[i] end
local filed, left = file_inbox(tonumber(ARGV[3]), function(e) return declared[e] end)
return {filed, left}

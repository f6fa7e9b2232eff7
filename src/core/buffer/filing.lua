-- Files the head of a shard's inbox (up to `max` registrations): each registration a push named there goes into its
-- event's queue, and its event into the ready and oldest indexes, in push order, in one step with the
-- inbox's trim and the pushed counter. It stops at the first registration of an event whose keys were not declared
-- (`queue_of(e)` nil: the caller read the head first, see plan.lua and file.rs). Returns filed, left in the inbox.
-- The one filing code of file.lua and claim.lua.
-- An inbox entry's event (an id 1 to 2^63 - 1, written as Rust writes it), registration id, time, and the digest of
-- the unique key whose marker holds the registration (or nil); nil for an entry reg_buffer did not write. plan.lua
-- and file.rs read the events of the head the same way.
local function inbox_entry(m)
  local e, id, score, digest = string.match(m, '^([1-9]%d*):([^:]+):(%d+):u(%x+)$')
  if not e then
    e, id, score = string.match(m, '^([1-9]%d*):(.+):(%d+)$')
  elseif #digest ~= 32 then
    return nil
  end
  if e and (#e < 19 or (#e == 19 and e <= '9223372036854775807')) and #score <= 15 then return e, id, score, digest end
  return nil
end
-- A registration its unique key's marker holds (a transaction push: the marker was taken and the entry named in one
-- step, see push.rs) moves into the event's data, and the marker keeps only its id, now with its TTL. False when the
-- marker holds another registration: the push found the key taken (it answered duplicate) and this entry names
-- nothing. A marker that already names this id was moved by a filing that stopped before its trim.
local function take_held(e, id, digest)
  local marker = k_marker(e, digest)
  local ok, v = pcall(redis.call, 'GET', marker)
  if not ok then return false end
  if v == id then return true end
  local holder, ttl, entry = held_parts(v)
  if holder ~= id then return false end
  redis.call('HSET', k_data(e), id, entry)
  redis.call('SET', marker, id, 'EX', ttl)
  return true
end
local function file_inbox(max, queue_of)
  local members = redis.call('LRANGE', K_INBOX, 0, max - 1)
  local order, ids, raw, least = {}, {}, {}, {}
  local taken, filed, duplicates = 0, 0, 0
  for _, m in ipairs(members) do
    -- `<event>:<id>:<ms>[:u<digest>]` (keys.rs's push_inbox_member). One that is not (reg_buffer never writes it) is
    -- dropped, counted pushed and dropped (stats counted it pushed while it waited), rather than block the inbox;
    -- one whose marker holds another registration is a duplicate's, counted as one.
    local e, id, score, digest = inbox_entry(m)
    if e and not queue_of(e) then break end
    taken = taken + 1
    if digest and not take_held(e, id, digest) then
      duplicates = duplicates + 1
    elseif e then
      filed = filed + 1
      local list = ids[e]
      if not list then
        list = {}
        ids[e], raw[e], least[e] = list, {}, score
        order[#order + 1] = e
      end
      list[#list + 1] = id
      raw[e][#list] = m
      if tonumber(score) < tonumber(least[e]) then least[e] = score end
    end
  end
  if taken == 0 then return 0, redis.call('LLEN', K_INBOX) end
  -- Trimmed and counted before anything is filed: were a later write refused (an ACL without a command), the script
  -- stops with nothing filed twice.
  redis.call('LTRIM', K_INBOX, taken, -1)
  if taken > duplicates then redis.call('HINCRBY', K_STATS, 'pushed', taken - duplicates) end
  if taken > filed + duplicates then redis.call('HINCRBY', K_STATS, 'dropped', taken - filed - duplicates) end
  if duplicates > 0 then redis.call('HINCRBY', K_STATS, 'duplicates', duplicates) end
  local t = redis.call('TIME')
  local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  for _, e in ipairs(order) do
    local queue, list, done = queue_of(e), ids[e], 0
    local ok = pcall(function()
      for from = 1, #list, 500 do
        local upto = math.min(from + 499, #list)
        redis.call('RPUSH', queue, unpack(list, from, upto))
        done = upto
      end
    end)
    if done > 0 then
      -- An event not ready yet has waited since its oldest registration was pushed (no later than now, whatever the
      -- pushing host's clock said): it goes among the events served since, on the claims' µs scale. NX keeps the
      -- place of one already ready.
      redis.call('ZADD', K_READY, 'NX', string.format('%d', math.min(tonumber(least[e]) * 1000, now_us)), e)
      redis.call('ZADD', K_OLDEST, 'LT', least[e], e)
    end
    if not ok then
      -- The event's queue refused them (a key of another type written there): they go back to the inbox's tail,
      -- not counted, and the rest of the shard is filed.
      redis.call('RPUSH', K_INBOX, unpack(raw[e], done + 1, #list))
      redis.call('HINCRBY', K_STATS, 'pushed', done - #list)
      filed = filed - (#list - done)
    end
  end
  return filed, redis.call('LLEN', K_INBOX)
end

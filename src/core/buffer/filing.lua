-- Files the heads of a shard's inbox and held list (up to `max` registrations each): each registration a push named
-- there goes into its event's queue, and its event into the ready and oldest indexes, in push order, in one step
-- with the lists' trims and the pushed counter. It stops at the first registration of an event whose keys were not
-- declared (`queue_of(e)` nil: the caller read the heads first, see plan.lua and file.rs). Returns filed, left in
-- both lists. The one filing code of file.lua and claim.lua.
-- An inbox entry's event (an id 1 to 2^63 - 1, written as Rust writes it), registration id, time, and the digest of
-- the unique key whose marker holds the registration (the held list's entries; nil in the inbox's); nil for an entry
-- reg_buffer did not write. plan.lua and file.rs read the events of the heads the same way.
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
-- What a held list's entry names: {marker, ttl, entry} when its marker holds this registration (codec.rs's
-- write_held), else how to count it: 'duplicate' (the marker holds another registration, or is a key of another
-- type: the push's SET NX found it taken and answered duplicate), 'lost' (the marker is gone: evicted, or the
-- holder's TTL ran out since), 'again' (it names this id: the registration was buffered by a push sent again on a
-- new connection, which wrote its own entry; this one, the first attempt's, arrived after it).
local function held_by(e, id, digest)
  local marker = k_marker(e, digest)
  local ok, v = pcall(redis.call, 'GET', marker)
  if not ok then return 'duplicate' end
  if not v then return 'lost' end
  if v == id then return 'again' end
  local holder, ttl, entry = held_parts(v)
  if holder ~= id then return 'duplicate' end
  return {marker, ttl, entry}
end
-- The heads of the inbox and the held list, merged in push order (by time, then id; each list's own order kept):
-- {entry, its list}. Where one list's head was cut at `max`, the merge stops at its end: what follows it in that
-- list may come before the other's next entry.
local function heads(max)
  local a, b = redis.call('LRANGE', K_INBOX, 0, max - 1), redis.call('LRANGE', K_HELD, 0, max - 1)
  local merged, i, j = {}, 1, 1
  local function key(m)
    local _, id, score = inbox_entry(m)
    return id and tonumber(score), id
  end
  while i <= #a or j <= #b do
    if (i > #a and #a == max) or (j > #b and #b == max) then break end
    local take_a = j > #b
    if not take_a and i <= #a then
      local sa, ia = key(a[i])
      local sb, ib = key(b[j])
      take_a = not sa or (sb and (sa < sb or (sa == sb and ia <= ib)))
    end
    if take_a then
      merged[#merged + 1] = {a[i], K_INBOX}
      i = i + 1
    else
      merged[#merged + 1] = {b[j], K_HELD}
      j = j + 1
    end
  end
  return merged
end
-- The error that refuses the step before anything is trimmed when a key filing writes outside its per-event pcall
-- holds another type (written by something else), or cannot be read: the lists stay as they are until it is fixed.
local function check_types()
  for _, read in ipairs({{'HLEN', K_STATS}, {'ZCARD', K_READY}, {'ZCARD', K_OLDEST}}) do
    local ok, err = pcall(redis.call, read[1], read[2])
    if not ok then return err end
  end
end
local function file_inbox(max, queue_of)
  local order, ids, raw, held, least = {}, {}, {}, {}, {}
  local taken, filed, dropped = {[K_INBOX] = 0, [K_HELD] = 0}, 0, 0
  local count = {duplicate = 0, lost = 0, again = 0}
  for _, head in ipairs(heads(max)) do
    -- `<event>:<id>:<ms>[:u<digest>]` (keys.rs's push_inbox_member). One that is not (reg_buffer never writes it) is
    -- dropped, counted pushed and dropped (stats counted it pushed while it waited), rather than block the list.
    local m, list = head[1], head[2]
    local e, id, score, digest = inbox_entry(m)
    if e and not queue_of(e) then break end
    taken[list] = taken[list] + 1
    local move = e and digest and held_by(e, id, digest)
    if type(move) == 'string' then
      count[move] = count[move] + 1
    elseif e then
      filed = filed + 1
      local list_ids = ids[e]
      if not list_ids then
        list_ids = {}
        ids[e], raw[e], held[e], least[e] = list_ids, {}, {}, score
        order[#order + 1] = e
      end
      list_ids[#list_ids + 1] = id
      raw[e][#list_ids] = head
      held[e][#list_ids] = move or false
      if tonumber(score) < tonumber(least[e]) then least[e] = score end
    else
      dropped = dropped + 1
    end
  end
  local all = taken[K_INBOX] + taken[K_HELD]
  if all == 0 then return 0, redis.call('LLEN', K_INBOX) + redis.call('LLEN', K_HELD) end
  local refused = check_types()
  if refused then error(refused) end
  -- Trimmed and counted before anything is written: were a later write refused (an ACL without a command), the
  -- script stops with nothing filed twice. A duplicate's entry and a first attempt's late one were never pushed;
  -- a lost one was (and is counted lost).
  for list, n in pairs(taken) do
    if n > 0 then redis.call('LTRIM', list, n, -1) end
  end
  local pushed = all - count.duplicate - count.again
  if pushed > 0 then redis.call('HINCRBY', K_STATS, 'pushed', pushed) end
  if dropped > 0 then redis.call('HINCRBY', K_STATS, 'dropped', dropped) end
  if count.duplicate > 0 then redis.call('HINCRBY', K_STATS, 'duplicates', count.duplicate) end
  if count.lost > 0 then redis.call('HINCRBY', K_STATS, 'lost', count.lost) end
  local t = redis.call('TIME')
  local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  for _, e in ipairs(order) do
    local queue, list_ids, moves, moved, done = queue_of(e), ids[e], held[e], 0, 0
    local ok = pcall(function()
      -- A held registration moves into the event's data, its marker keeping only its id, now with its TTL.
      for i = 1, #list_ids do
        local move = moves[i]
        if move then
          redis.call('HSET', k_data(e), list_ids[i], move[3])
          redis.call('SET', move[1], list_ids[i], 'EX', move[2])
        end
        moved = i
      end
      for from = 1, #list_ids, 500 do
        local upto = math.min(from + 499, #list_ids)
        redis.call('RPUSH', queue, unpack(list_ids, from, upto))
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
      -- A write was refused (a key of another type written where the event's data or queue goes): what was not
      -- queued goes back, not counted, and the rest of the shard is filed. One already moved out of its marker
      -- goes back as an inbox entry (its data is where a plain push puts it); one not moved, to its own list.
      for i = done + 1, #list_ids do
        local m, list = raw[e][i][1], raw[e][i][2]
        if moves[i] and i <= moved then
          local _, _, score = inbox_entry(m)
          redis.call('RPUSH', K_INBOX, e .. ':' .. list_ids[i] .. ':' .. score)
        else
          redis.call('RPUSH', list, m)
        end
      end
      redis.call('HINCRBY', K_STATS, 'pushed', done - #list_ids)
      filed = filed - (#list_ids - done)
    end
  end
  return filed, redis.call('LLEN', K_INBOX) + redis.call('LLEN', K_HELD)
end

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
-- What a held list's entry names, from its marker's value `v` (read with the step's other markers by MGET): {ttl,
-- entry} when the marker holds this registration (codec.rs's write_held), else how to count it: 'duplicate' (the
-- marker holds another registration, or is a key of another type: the push's SET NX found it taken and answered
-- duplicate), 'lost' (the marker is gone: evicted, or the holder's TTL ran out since), 'again' (it names this id:
-- the registration was buffered by a push sent again on a new connection, which wrote its own entry; this one, the
-- first attempt's, arrived after it).
local function held_by(marker, id, v)
  if not v then
    -- MGET reads a key of another type as missing.
    return pcall(redis.call, 'GET', marker) and 'lost' or 'duplicate'
  end
  if v == id then return 'again' end
  local holder, ttl, entry = held_parts(v)
  if holder ~= id then return 'duplicate' end
  return {ttl, entry}
end
-- The heads of the inbox and the held list, merged in push order (by time, then id; each list's own order kept),
-- each entry read once: {entry, its list, event, id, ms, digest} (event nil for an entry reg_buffer did not write).
-- Where one list's head was cut at `max`, the merge stops at its end: what follows it in that list may come before
-- the other's next entry.
local function heads(max)
  local function read(list)
    local parsed = {}
    for n, m in ipairs(redis.call('LRANGE', list, 0, max - 1)) do
      local e, id, score, digest = inbox_entry(m)
      parsed[n] = {m, list, e, id, score and tonumber(score), digest}
    end
    return parsed
  end
  local a, b = read(K_INBOX), read(K_HELD)
  if #b == 0 then return a end
  if #a == 0 then return b end
  local merged, i, j = {}, 1, 1
  while i <= #a or j <= #b do
    if (i > #a and #a == max) or (j > #b and #b == max) then break end
    local x, y = a[i], b[j]
    local take_a = not y or (x and (not x[3] or (y[3] and (x[5] < y[5] or (x[5] == y[5] and x[4] <= y[4])))))
    if take_a then
      merged[#merged + 1] = x
      i = i + 1
    else
      merged[#merged + 1] = y
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
  -- The entries of declared events (up to the first that is not), and the values of their markers, in one MGET.
  local step, markers, values = {}, {}, {}
  for _, head in ipairs(heads(max)) do
    if head[3] and not queue_of(head[3]) then break end
    step[#step + 1] = head
    if head[3] and head[6] then
      markers[#markers + 1] = k_marker(head[3], head[6])
      head[7] = #markers
    end
  end
  for from = 1, #markers, 1000 do
    local got = redis.call('MGET', unpack(markers, from, math.min(from + 999, #markers)))
    for x = 1, #got do values[from + x - 1] = got[x] end
  end
  for _, head in ipairs(step) do
    -- `<event>:<id>:<ms>[:u<digest>]` (keys.rs's push_inbox_member). One that is not (reg_buffer never writes it) is
    -- dropped, counted pushed and dropped (stats counted it pushed while it waited), rather than block the list.
    local list, e, id, score = head[2], head[3], head[4], head[5]
    taken[list] = taken[list] + 1
    local move = head[7] and held_by(markers[head[7]], id, values[head[7]])
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
      held[e][#list_ids] = move and {markers[head[7]], move[1], move[2]} or false
      if score < least[e] then least[e] = score end
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
      -- Held registrations move into the event's data (one HSET), each marker keeping only its id, now with its TTL.
      local fields = {}
      for i = 1, #list_ids do
        if moves[i] then
          fields[#fields + 1] = list_ids[i]
          fields[#fields + 1] = moves[i][3]
        end
      end
      for from = 1, #fields, 1000 do
        redis.call('HSET', k_data(e), unpack(fields, from, math.min(from + 999, #fields)))
      end
      for i = 1, #list_ids do
        local move = moves[i]
        if move then redis.call('SET', move[1], list_ids[i], 'EX', move[2]) end
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
      redis.call('ZADD', K_READY, 'NX', string.format('%d', math.min(least[e] * 1000, now_us)), e)
      redis.call('ZADD', K_OLDEST, 'LT', string.format('%d', least[e]), e)
    end
    if not ok then
      -- A write was refused (a key of another type written where the event's data or queue goes): what was not
      -- queued goes back, not counted, and the rest of the shard is filed. One already moved out of its marker
      -- goes back as an inbox entry (its data is where a plain push puts it); one not moved, to its own list.
      for i = done + 1, #list_ids do
        local head = raw[e][i]
        if moves[i] and i <= moved then
          redis.call('RPUSH', K_INBOX, e .. ':' .. list_ids[i] .. ':' .. string.format('%d', head[5]))
        else
          redis.call('RPUSH', head[2], head[1])
        end
      end
      redis.call('HINCRBY', K_STATS, 'pushed', done - #list_ids)
      filed = filed - (#list_ids - done)
    end
  end
  return filed, redis.call('LLEN', K_INBOX) + redis.call('LLEN', K_HELD)
end

-- An event's seats (keys.rs: ev:{e}:s): `taken`, `waiting`, and `run`, the run_id of the server whose data the count
-- describes. A count written under another run (Redis restarted or failed over: it may have lost writes) or gone
-- (flushed, evicted) is not known: the caller counts its store again (seats_seed) before anyone else is booked.
-- The one seat-counting code of push.lua and seats_*.lua.
local function server_run()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end
-- {taken, waiting} when the count is known, else nil.
local function seats_read(key)
  local s = redis.call('HMGET', key, 'run', 'taken', 'waiting')
  if not s[1] or s[1] ~= server_run() then return nil end
  return {tonumber(s[2]) or 0, tonumber(s[3]) or 0}
end
-- Where the next booking goes: 'r' a seat, 'w' the waitlist, nil sold out. While anyone waits, a newcomer queues
-- behind them (a freed or added seat is the first waiter's).
local function seats_place(count, capacity, waitlist)
  if count[1] < capacity and (count[2] == 0 or not waitlist) then return 'r' end
  if waitlist then return 'w' end
  return nil
end
local function seats_take(key, count, place)
  if place == 'r' then
    count[1] = redis.call('HINCRBY', key, 'taken', 1)
  else
    count[2] = redis.call('HINCRBY', key, 'waiting', 1)
  end
end

-- The ids of an event's registrations still in Redis (pending or in flight), by place: what a seed counts beside
-- the store's rows. KEYS: the event's data hash. Returns {registered ids, waitlisted ids}.
local registered, waitlisted = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.byte(all[i + 1]) == 119 then     -- 'w': codec.rs's WAITLISTED_TAG
    waitlisted[#waitlisted + 1] = all[i]
  else
    registered[#registered + 1] = all[i]
  end
end
return {registered, waitlisted}

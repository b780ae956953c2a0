-- leave: ARGV[2] call id, ARGV[3] now. Returns {'OK', call fields as they were}.
local now = ARGV[3]
local c = load_call(ARGV[2])
if not c then return {'UNKNOWN_CALL'} end
local reply = {'OK', flat(c, CALL_FIELDS)}
local a = call_agent(c)
delete_call(c)
if not a then return reply end
local oa = copy(a)
if c.state == 'talking' then
  end_call(a, tonumber(c.wrap), now)
else
  -- Ringing when the caller hung up: back to ready, keeping idle (and so
  -- the agent's place among idle agents).
  release(a, now)
end
save_agent(oa, a)
return reply

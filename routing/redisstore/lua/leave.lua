-- leave: ARGV[2] call id, ARGV[3] now. Returns {'OK', call fields as they were}.
local now = ARGV[3]
local c = load_call(ARGV[2])
if not c then return {'UNKNOWN_CALL'} end
local reply = {'OK', flat(c, CALL_FIELDS)}
delete_call(c)
if c.state == 'queued' then return reply end
local a = load_agent(c.agent)
if not a or a.call ~= c.id or a.token ~= c.token then return reply end -- not reachable while the invariants hold
local oa = copy(a)
if c.state == 'talking' then
  end_call(a, tonumber(c.wrap), now)
else
  -- Ringing when the caller hung up: back to ready, keeping idle (and so
  -- the agent's place among idle agents).
  clear_call(a)
  a.since = now
  if not apply_pending(a) then a.state, a.reason = 'ready', '' end
end
save_agent(oa, a)
return reply

-- callback: ARGV[2] call id, ARGV[3] number, ARGV[4] now. Returns {'OK', call
-- fields after}.
local c = load_call(ARGV[2])
if not c then return {'UNKNOWN_CALL'} end
if c.state == 'talking' then return {'NOT_WAITING', c.agent} end
local oc = copy(c)
c.cb, c.dl = ARGV[3], ZERO
save_call(oc, c)
return {'OK', flat(c, CALL_FIELDS)}

-- modify: ARGV[2] call id, then the change: ARGV[3] tier, ARGV[4] key,
-- ARGV[5] queue, ARGV[6] skill, ARGV[7] '1' when steps are given, ARGV[8]
-- steps, ARGV[9] wrap, ARGV[10] lease, ARGV[11] preferred agent, ARGV[12]
-- prefer-until, ARGV[13] now. Empty, zero-time and '0' fields keep the
-- call's value. Only a queued call may change; it is re-indexed at once (a
-- new key moves it in line and in calls). Returns {'OK', call fields after}.
local c = load_call(ARGV[2])
if not c then return {'UNKNOWN_CALL'} end
if c.state ~= 'queued' then return {'NOT_WAITING', c.state, c.agent} end
local oc = copy(c)
local function set(field, v, zero)
  if v ~= zero then c[field] = v end
end
set('tier', ARGV[3], '')
set('key', ARGV[4], ZERO)
set('queue', ARGV[5], '')
set('skill', ARGV[6], '')
if ARGV[7] == '1' then c.steps = ARGV[8] end
set('wrap', ARGV[9], '0')
set('lease', ARGV[10], '0')
set('pa', ARGV[11], '')
set('pu', ARGV[12], ZERO)
save_call(oc, c)
return {'OK', flat(c, CALL_FIELDS)}

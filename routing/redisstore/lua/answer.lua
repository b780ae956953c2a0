-- answer: ARGV[2] call id, ARGV[3] agent id, ARGV[4] token, ARGV[5] now.
-- Returns {'OK', call fields after}: talking, answered now, no lease.
local now = ARGV[5]
local c, a, err = current_offer(ARGV[2], ARGV[3], ARGV[4], 'offered')
if err then return err end
local oc, oa = copy(c), copy(a)
c.state, c.answered, c.lease_until = 'talking', now, ZERO
a.state, a.since, a.misses = 'talking', now, '0'
save_call(oc, c)
save_agent(oa, a)
return {'OK', flat(c, CALL_FIELDS)}

-- no_answer: ARGV[2] call id, ARGV[3] agent id, ARGV[4] token, ARGV[5]
-- reason (never empty), ARGV[6] now. The call goes back to its place (key,
-- seq and deadline untouched); the agent becomes not_ready (or logged_out if
-- a logout was pending).
local reason, now = ARGV[5], ARGV[6]
local c, a, err = current_offer(ARGV[2], ARGV[3], ARGV[4], 'offered')
if err then return err end
local oc, oa = copy(c), copy(a)
c.state, c.agent, c.token, c.offered = 'queued', '', '0', ZERO
c.misses = fmtint(tonumber(c.misses) + 1)
if c.pa == a.id and tlt(now, c.pu) then c.pu = now end -- the account manager had their chance
clear_call(a)
if a.pending == 'logged_out' then
  a.state, a.reason = 'logged_out', ''
else
  a.state, a.reason = 'not_ready', reason
end
a.since, a.pending, a.preason = now, '', ''
save_call(oc, c)
save_agent(oa, a)
return {'OK'}

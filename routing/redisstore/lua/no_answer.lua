-- no_answer: ARGV[2] call id, ARGV[3] agent id, ARGV[4] token, ARGV[5]
-- reason (never empty), ARGV[6] until (a time), ARGV[7] max misses (0: no
-- limit), ARGV[8] now. The call goes back to its place (key, seq and
-- deadline untouched, one more miss, no lease); the agent, one more miss,
-- takes in this order of precedence: its pending state; not_ready
-- not_responding when it has missed max misses in a row; not_ready with
-- reason until until (the wrap index) when that is after now; else ready.
local reason, till, max_misses, now = ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
local c, a, err = current_offer(ARGV[2], ARGV[3], ARGV[4], 'offered')
if err then return err end
local oc, oa = copy(c), copy(a)
requeue(c)
c.misses = fmtint(tonumber(c.misses) + 1)
if c.pa == a.id and tlt(now, c.pu) then c.pu = now end -- the account manager had their chance
clear_call(a)
a.since = now
a.misses = fmtint(tonumber(a.misses) + 1)
if apply_pending(a) then
  -- a pending logout or not_ready takes effect
elseif max_misses > 0 and tonumber(a.misses) >= max_misses then
  a.state, a.reason = 'not_ready', 'not_responding'
elseif tlt(now, till) then
  a.state, a.reason, a.wrap = 'not_ready', reason, till
else
  a.state, a.reason, a.idle = 'ready', '', now
end
save_call(oc, c)
save_agent(oa, a)
return {'OK'}

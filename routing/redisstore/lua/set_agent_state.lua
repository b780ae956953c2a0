-- set_agent_state: ARGV[2] agent id, ARGV[3] state, ARGV[4] reason, ARGV[5]
-- force ('1': a supervisor may end a wrap-up), ARGV[6] now. Returns {'OK',
-- agent reply} or an error code.
local id, state, reason, force, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1', ARGV[6]
local a = load_agent(id)
if not a then return {'UNKNOWN_AGENT'} end
local old = copy(a)
local busy = a.state == 'offered' or a.state == 'talking'
if state == 'ready' then
  if a.state == 'logged_out' or a.state == 'not_ready' then
    -- also ends a miss delay (wrap) and the run of misses
    a.state, a.reason, a.since, a.idle = 'ready', '', now, now
    a.misses, a.wrap = '0', ZERO
  elseif a.state == 'wrap_up' and force then
    clear_call(a)
    a.state, a.reason, a.since, a.idle = 'ready', '', now, now
    a.misses, a.pending, a.preason = '0', '', ''
  elseif a.state ~= 'ready' then
    return {'BUSY', a.state}
  end
elseif state == 'not_ready' or state == 'logged_out' then
  if state == 'logged_out' then reason = '' end
  if busy then
    a.pending, a.preason = state, reason
  elseif not (a.state == state and a.reason == reason and a.wrap == ZERO) then
    clear_call(a)
    a.state, a.reason, a.since = state, reason, now
  end
else
  return {'INVALID_STATE'}
end
save_agent(old, a)
return {'OK', agent_reply(a)}

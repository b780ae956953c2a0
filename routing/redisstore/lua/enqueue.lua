-- enqueue: ARGV[2..] the call's id, caller, queue, skill, tier, enq, key, pa,
-- pu, dl, wrap, misses, cb, node, lease, steps; then max_queued (0: no limit)
-- and join_empty ('1': skip the logged-in agent check). Checks, in order:
-- duplicate, no logged-in agent with a skill of the call's steps, queue full.
-- Returns {'OK', seq} or an error code.
local c = {id = ARGV[2], caller = ARGV[3], queue = ARGV[4], skill = ARGV[5], tier = ARGV[6], enq = ARGV[7],
  key = ARGV[8], pa = ARGV[9], pu = ARGV[10], dl = ARGV[11], wrap = ARGV[12], misses = ARGV[13], cb = ARGV[14],
  node = ARGV[15], lease = ARGV[16], steps = ARGV[17],
  state = 'queued', agent = '', token = '0', offered = ZERO, answered = ZERO, lease_until = ZERO}
local max_queued, join_empty = tonumber(ARGV[18]), ARGV[19] == '1'
if redis.call('EXISTS', P .. 'call:' .. c.id) == 1 then return {'DUPLICATE'} end
if not join_empty then
  local online = false
  for _, skill in ipairs(call_skills(c)) do
    if redis.call('SCARD', P .. 'online:' .. skill) > 0 then
      online = true
      break
    end
  end
  if not online then return {'NO_AGENTS'} end
end
if max_queued > 0 then
  local n = redis.call('ZCARD', P .. 'q:' .. c.queue)
  if n >= max_queued then return {'QUEUE_FULL', fmtint(n)} end
end
c.seq = fmtint(redis.call('INCR', P .. 'seq'))
save_call(nil, c)
return {'OK', c.seq}

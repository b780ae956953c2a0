-- enqueue: ARGV[2..] the call's id, caller, queue, skill, tier, enq, key, pa,
-- pu, dl, wrap, misses, cb. Returns {'OK', seq} or an error code.
local c = {id = ARGV[2], caller = ARGV[3], queue = ARGV[4], skill = ARGV[5], tier = ARGV[6], enq = ARGV[7],
  key = ARGV[8], pa = ARGV[9], pu = ARGV[10], dl = ARGV[11], wrap = ARGV[12], misses = ARGV[13], cb = ARGV[14],
  state = 'queued', agent = '', token = '0', offered = ZERO, answered = ZERO}
if redis.call('EXISTS', P .. 'call:' .. c.id) == 1 then return {'DUPLICATE'} end
if redis.call('SCARD', P .. 'online:' .. c.skill) == 0 then return {'NO_AGENTS'} end
c.seq = fmtint(redis.call('INCR', P .. 'seq'))
save_call(nil, c)
return {'OK', c.seq}

-- heartbeat: ARGV[2] node id, ARGV[3] until, ARGV[4] lost state. Upserts
-- the node's record and its place in nodes.
local id, till = ARGV[2], ARGV[3]
redis.call('HSET', P .. 'node:' .. id, 'until', till, 'lost', ARGV[4])
redis.call('ZADD', P .. 'nodes', fmtint((tscore(till))), id)
return {'OK'}

-- put_agents: ARGV[2] now, ARGV[3] JSON [{"id":…, "skills":{skill: level}}].
-- New agents start logged_out; existing ones keep their state and get the
-- new skills.
local now = ARGV[2]
for _, cfg in ipairs(cjson.decode(ARGV[3])) do
  local old = load_agent(cfg.id)
  local a
  if old then
    a = copy(old)
  else
    a = {id = cfg.id, state = 'logged_out', reason = '', since = now, idle = ZERO, call = '', queue = '',
      token = '0', wrap = ZERO, misses = '0', pending = '', preason = ''}
    redis.call('ZADD', P .. 'agents', 0, cfg.id)
  end
  a.skills = {}
  local sk = P .. 'skills:' .. cfg.id
  redis.call('DEL', sk)
  for skill, level in pairs(cfg.skills) do
    a.skills[skill] = level
    redis.call('HSET', sk, skill, fmtint(level))
  end
  save_agent(old, a)
end
return {'OK'}

-- read_all: every call in (key, seq) order and every agent by id, read in
-- one script so the listing is a consistent snapshot. ARGV[2] is "calls" or
-- "agents".
local out = {}
if ARGV[2] == 'calls' then
  for _, m in ipairs(redis.call('ZRANGE', P .. 'calls', 0, -1)) do
    local c = load_call(string.sub(m, 27))
    if c then out[#out + 1] = flat(c, CALL_FIELDS) end
  end
else
  for _, id in ipairs(redis.call('ZRANGE', P .. 'agents', 0, -1)) do
    local a = load_agent(id)
    if a then out[#out + 1] = agent_reply(a) end
  end
end
return out

-- common.lua: helpers shared by every redisstore script (prepended to each).
--
-- ARGV[1] is the store's key prefix, "kefu:{<prefix>}:"; KEYS[1] is one of
-- its keys (the token counter), so the script is routed to the slot of the
-- hash tag. Every key the script touches starts with that prefix and so lives
-- in the same slot (Redis Cluster).
--
-- Times are 20-digit strings: UnixNano with the sign bit flipped, zero-padded
-- (the zero time.Time is all zeros), so they are exact (a Lua number is a
-- double and cannot hold nanoseconds since 1970) and compare as two numbers.
local P = ARGV[1]
local ZERO = '00000000000000000000'
local H0, L0 = 9223372036, 854775808 -- 2^63 split as 11 + 9 digits

local function hilo(t)
  return tonumber(string.sub(t, 1, 11)), tonumber(string.sub(t, 12, 20))
end

-- tlt reports whether time a is before time b.
local function tlt(a, b)
  local ah, al = hilo(a)
  local bh, bl = hilo(b)
  return ah < bh or (ah == bh and al < bl)
end

-- tadd returns t plus ns nanoseconds (0 <= ns < 2^53).
local function tadd(t, ns)
  local h, l = hilo(t)
  l = l + ns % 1000000000
  h = h + math.floor(ns / 1000000000) + math.floor(l / 1000000000)
  l = l % 1000000000
  return string.format('%011d%09d', h, l)
end

-- tscore returns t as whole milliseconds since the epoch (a sorted-set
-- score, exact in a double) and the nanoseconds left over (0-999999).
local function tscore(t)
  local h, l = hilo(t)
  local d = l - L0
  return (h - H0) * 1000 + math.floor(d / 1000000), d % 1000000
end

local function fmtint(n) return string.format('%d', n) end

-- tmember returns the score and member placing call c at time t, ties broken
-- by c.seq: score = ms, member = 6-digit ns remainder, 20-digit seq, call id.
local function tmember(t, c)
  local ms, rem = tscore(t)
  return fmtint(ms), string.format('%06d%020d', rem, tonumber(c.seq)) .. c.id
end

local function hgetall(key)
  local r = redis.call('HGETALL', key)
  if #r == 0 then return nil end
  local t = {}
  for i = 1, #r, 2 do t[r[i]] = r[i + 1] end
  return t
end

local function flat(t, fields)
  local out = {}
  for _, f in ipairs(fields) do
    out[#out + 1] = f
    out[#out + 1] = t[f]
  end
  return out
end

local function copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end

-- Calls ------------------------------------------------------------------

local CALL_FIELDS = {'id', 'caller', 'queue', 'skill', 'tier', 'state', 'enq', 'key', 'seq', 'pa', 'pu',
  'dl', 'wrap', 'agent', 'token', 'offered', 'answered', 'misses', 'cb'}

local function load_call(id) return hgetall(P .. 'call:' .. id) end

-- unindex_call removes c from the indexes of queued calls.
local function unindex_call(c)
  if c.state ~= 'queued' then return end
  local _, m = tmember(c.key, c)
  redis.call('ZREM', P .. 'q:' .. c.queue, m)
  local qs = P .. 'qs:' .. c.skill
  if redis.call('HINCRBY', qs, c.queue, -1) <= 0 then redis.call('HDEL', qs, c.queue) end
  if c.pa ~= '' then
    redis.call('ZREM', P .. 'pref:' .. c.pa, m)
    if c.pu ~= ZERO then
      local _, pm = tmember(c.pu, c)
      redis.call('ZREM', P .. 'preferuntil', pm)
    end
  end
  if c.dl ~= ZERO then
    local _, dm = tmember(c.dl, c)
    redis.call('ZREM', P .. 'deadline', dm)
  end
end

-- index_call adds c to the indexes of queued calls if it is queued.
local function index_call(c)
  if c.state ~= 'queued' then return end
  local s, m = tmember(c.key, c)
  redis.call('ZADD', P .. 'q:' .. c.queue, s, m)
  redis.call('HINCRBY', P .. 'qs:' .. c.skill, c.queue, 1)
  if c.pa ~= '' then
    redis.call('ZADD', P .. 'pref:' .. c.pa, s, m)
    if c.pu ~= ZERO then
      local ps, pm = tmember(c.pu, c)
      redis.call('ZADD', P .. 'preferuntil', ps, pm)
    end
  end
  if c.dl ~= ZERO then
    local ds, dm = tmember(c.dl, c)
    redis.call('ZADD', P .. 'deadline', ds, dm)
  end
end

local function write_call(c)
  redis.call('HSET', P .. 'call:' .. c.id, unpack(flat(c, CALL_FIELDS)))
end

-- save_call writes c, which was old (nil: new), and moves its index entries.
local function save_call(old, c)
  if old then unindex_call(old) end
  write_call(c)
  if not old then
    local s, m = tmember(c.key, c)
    redis.call('ZADD', P .. 'calls', s, m)
  end
  index_call(c)
end

local function delete_call(c)
  unindex_call(c)
  local _, m = tmember(c.key, c)
  redis.call('ZREM', P .. 'calls', m)
  redis.call('DEL', P .. 'call:' .. c.id)
end

-- Agents -----------------------------------------------------------------

local AGENT_FIELDS = {'id', 'state', 'reason', 'since', 'idle', 'call', 'queue', 'token', 'wrap', 'pending', 'preason'}

local function load_skills(id)
  local r = redis.call('HGETALL', P .. 'skills:' .. id)
  local s = {}
  for i = 1, #r, 2 do s[r[i]] = tonumber(r[i + 1]) end
  return s
end

local function load_agent(id)
  local a = hgetall(P .. 'agent:' .. id)
  if a then a.skills = load_skills(id) end
  return a
end

-- ready_member orders the ready agents of a skill best first: the highest
-- level, then the longest idle, then the lowest id (all scores are 0).
local function ready_member(a, level)
  return fmtint(5 - level) .. a.idle .. a.id
end

local function wrap_member(a)
  local ms, rem = tscore(a.wrap)
  return fmtint(ms), string.format('%06d', rem) .. a.id
end

local function unindex_agent(a)
  if a.state == 'ready' then
    redis.call('ZREM', P .. 'ready', a.id)
    for skill, level in pairs(a.skills) do redis.call('ZREM', P .. 'ready:' .. skill, ready_member(a, level)) end
  end
  if a.state ~= 'logged_out' then
    for skill in pairs(a.skills) do redis.call('SREM', P .. 'online:' .. skill, a.id) end
  end
  if a.state == 'wrap_up' then
    local _, m = wrap_member(a)
    redis.call('ZREM', P .. 'wrap', m)
  end
end

local function index_agent(a)
  if a.state == 'ready' then
    redis.call('ZADD', P .. 'ready', 0, a.id)
    for skill, level in pairs(a.skills) do redis.call('ZADD', P .. 'ready:' .. skill, 0, ready_member(a, level)) end
  end
  if a.state ~= 'logged_out' then
    for skill in pairs(a.skills) do redis.call('SADD', P .. 'online:' .. skill, a.id) end
  end
  if a.state == 'wrap_up' then
    local s, m = wrap_member(a)
    redis.call('ZADD', P .. 'wrap', s, m)
  end
end

-- save_agent writes a, which was old (nil: new), and moves its index entries.
local function save_agent(old, a)
  if old then unindex_agent(old) end
  redis.call('HSET', P .. 'agent:' .. a.id, unpack(flat(a, AGENT_FIELDS)))
  index_agent(a)
end

local function agent_reply(a)
  local skills = {}
  for skill, level in pairs(a.skills) do
    skills[#skills + 1] = skill
    skills[#skills + 1] = fmtint(level)
  end
  return {flat(a, AGENT_FIELDS), skills}
end

local function clear_call(a)
  a.call, a.queue, a.token, a.wrap = '', '', '0', ZERO
end

-- apply_pending moves a to its pending state, if any, and reports whether it did.
local function apply_pending(a)
  if a.pending == '' then return false end
  a.state, a.reason = a.pending, a.preason
  a.pending, a.preason = '', ''
  return true
end

-- free makes an agent whose call and wrap-up are over available at time at.
local function free(a, at)
  clear_call(a)
  a.since = at
  if apply_pending(a) then return end
  a.state, a.reason, a.idle = 'ready', '', at
end

-- end_call moves an agent whose conversation ended into wrap-up (wrap ns), or
-- frees it at once.
local function end_call(a, wrap, now)
  if wrap > 0 then
    a.state, a.since, a.wrap = 'wrap_up', now, tadd(now, wrap)
    return
  end
  free(a, now)
end

-- current_offer returns the call and agent of the offer (call id, agent id,
-- token) when it is their current offer in state want, or nil and an error
-- reply.
local function current_offer(cid, aid, token, want)
  local a = load_agent(aid)
  if not a then return nil, nil, {'UNKNOWN_AGENT'} end
  local c = load_call(cid)
  if not c then return nil, nil, {'GONE'} end
  if token == '0' or c.token ~= token or c.agent ~= aid or a.token ~= token or a.call ~= cid then
    return nil, nil, {'STALE', c.token}
  end
  local want_agent = 'offered'
  if want == 'talking' then want_agent = 'talking' end
  if c.state ~= want or a.state ~= want_agent then return nil, nil, {'WRONG_STATE', c.state} end
  return c, a, nil
end

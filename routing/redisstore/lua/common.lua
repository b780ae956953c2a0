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

-- Keys ---------------------------------------------------------------------
--
-- Every key is P .. name. Records:
--
--   call:<id>        hash: one call, the fields of CALL_FIELDS (times as
--                    20-digit strings; wrap and lease as integer nanoseconds;
--                    steps as a JSON array of {at, skill, min_level}, at a
--                    20-digit time, or '' for none).
--   agent:<id>       hash: one agent, the fields of AGENT_FIELDS.
--   skills:<id>      hash: the agent's skill → level.
--   node:<id>        hash: a node's last heartbeat: until (a time) and lost
--                    (the state its talking agents take if it is lost).
--   seq, token       counters (INCR): enqueue sequence, fencing token.
--
-- Indexes, each kept in step with the records by the functions below
-- (index_call/unindex_call, save_call, delete_call, index_agent/
-- unindex_agent):
--
--   calls            zset: every call, whatever its state, in (key, seq)
--                    order (tmember of key): Calls, and Modify's new key.
--   q:<queue>        zset: the queued calls of a queue, by (key, seq): the
--                    matching pass reads it; its ZCARD is Enqueue's
--                    MaxQueued check (offered and talking calls are not in it).
--   qs:<skill>       hash: queue → how many of its queued calls have skill
--                    among their step skills (call_skills: the distinct
--                    skills of the steps, or the call's skill): the matching
--                    pass's sources for a skill are the q:<queue> it names.
--   pref:<agent>     zset: queued calls preferring agent, by (key, seq).
--   deadline         zset: queued calls with a deadline, by (deadline, seq).
--   preferuntil      zset: queued calls with a preferred agent and a
--                    prefer-until, by (prefer-until, seq): Next.
--   stepat           zset: one entry per explicit step of each queued call:
--                    score = the step's time in ms, member = its 20-digit
--                    time, ':', step number, ':', call id: Next (a step
--                    coming into force may make an offer possible).
--   lease            zset: offered calls with a lease, by (lease_until, seq):
--                    Match withdraws those due; Next.
--   nodecalls:<node> set: ids of every call (any state) whose node is
--                    <node>: what Match removes when the node is lost.
--   nodes            zset: every node with a heartbeat, scored by its until
--                    in ms (exact until in node:<id>): lost-node recovery,
--                    Next.
--   agents           zset (score 0): every agent id, in id order.
--   ready            zset (score 0): ready agent ids.
--   ready:<skill>    zset (score 0): ready agents with skill, best first:
--                    member = (5 − level) digit, idle-since, id.
--   online:<skill>   set: logged-in agents with skill (Enqueue's check).
--   wrap             zset: agents with a timer — in wrap_up, or not_ready
--                    after a missed offer with a non-zero wrap (its end) —
--                    by (wrap, id): Match's agent timers, Next.

-- Calls ------------------------------------------------------------------

local CALL_FIELDS = {'id', 'caller', 'queue', 'skill', 'tier', 'state', 'enq', 'key', 'seq', 'pa', 'pu',
  'dl', 'wrap', 'agent', 'token', 'offered', 'answered', 'misses', 'cb', 'node', 'lease', 'lease_until', 'steps'}

-- Fields a call written by an older version lacks.
local CALL_DEFAULTS = {node = '', lease = '0', lease_until = ZERO, steps = ''}

local function load_call(id)
  local c = hgetall(P .. 'call:' .. id)
  if c then
    for f, v in pairs(CALL_DEFAULTS) do
      if c[f] == nil then c[f] = v end
    end
  end
  return c
end

-- explicit_steps decodes a steps field into {at, skill, min} tables (the
-- decoded form is cached by the JSON text; callers must not change it).
local steps_cache = {}
local function explicit_steps(json)
  if json == '' then return {} end
  local out = steps_cache[json]
  if out then return out end
  out = {}
  for i, st in ipairs(cjson.decode(json)) do
    out[i] = {at = st.at, skill = st.skill, min = tonumber(st.min_level)}
  end
  steps_cache[json] = out
  return out
end

-- call_steps returns c's steps, or its one implicit step (its skill at any
-- level from when it was enqueued), as routing.Call.CallSteps does.
local function call_steps(c)
  local steps = explicit_steps(c.steps)
  if #steps > 0 then return steps end
  return {{at = c.enq, skill = c.skill, min = 1}}
end

-- call_skills returns the distinct skills of c's steps, in first-use order.
local function call_skills(c)
  local out, seen = {}, {}
  for _, st in ipairs(call_steps(c)) do
    if not seen[st.skill] then
      seen[st.skill] = true
      out[#out + 1] = st.skill
    end
  end
  return out
end

local function step_member(st, i, c)
  return fmtint((tscore(st.at))), st.at .. ':' .. fmtint(i) .. ':' .. c.id
end

-- unindex_call removes c from the indexes of its state (queued: q, qs,
-- pref, preferuntil, deadline, stepat; offered: lease).
local function unindex_call(c)
  if c.state == 'offered' and c.lease_until ~= ZERO then
    local _, lm = tmember(c.lease_until, c)
    redis.call('ZREM', P .. 'lease', lm)
  end
  if c.state ~= 'queued' then return end
  local _, m = tmember(c.key, c)
  redis.call('ZREM', P .. 'q:' .. c.queue, m)
  for _, skill in ipairs(call_skills(c)) do
    local qs = P .. 'qs:' .. skill
    if redis.call('HINCRBY', qs, c.queue, -1) <= 0 then redis.call('HDEL', qs, c.queue) end
  end
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
  for i, st in ipairs(explicit_steps(c.steps)) do
    local _, sm = step_member(st, i, c)
    redis.call('ZREM', P .. 'stepat', sm)
  end
end

-- index_call adds c to the indexes of its state.
local function index_call(c)
  if c.state == 'offered' and c.lease_until ~= ZERO then
    local ls, lm = tmember(c.lease_until, c)
    redis.call('ZADD', P .. 'lease', ls, lm)
  end
  if c.state ~= 'queued' then return end
  local s, m = tmember(c.key, c)
  redis.call('ZADD', P .. 'q:' .. c.queue, s, m)
  for _, skill in ipairs(call_skills(c)) do redis.call('HINCRBY', P .. 'qs:' .. skill, c.queue, 1) end
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
  for i, st in ipairs(explicit_steps(c.steps)) do
    local ss, sm = step_member(st, i, c)
    redis.call('ZADD', P .. 'stepat', ss, sm)
  end
end

local function write_call(c)
  redis.call('HSET', P .. 'call:' .. c.id, unpack(flat(c, CALL_FIELDS)))
end

-- save_call writes c, which was old (nil: new), and moves its index entries.
local function save_call(old, c)
  if old then unindex_call(old) end
  write_call(c)
  local s, m = tmember(c.key, c)
  if not old then
    redis.call('ZADD', P .. 'calls', s, m)
    if c.node ~= '' then redis.call('SADD', P .. 'nodecalls:' .. c.node, c.id) end
  elseif old.key ~= c.key then
    local _, om = tmember(old.key, old)
    redis.call('ZREM', P .. 'calls', om)
    redis.call('ZADD', P .. 'calls', s, m)
  end
  index_call(c)
end

local function delete_call(c)
  unindex_call(c)
  local _, m = tmember(c.key, c)
  redis.call('ZREM', P .. 'calls', m)
  if c.node ~= '' then redis.call('SREM', P .. 'nodecalls:' .. c.node, c.id) end
  redis.call('DEL', P .. 'call:' .. c.id)
end

-- requeue puts an offered call back in line: key, seq and deadline are kept.
local function requeue(c)
  c.state, c.agent, c.token, c.offered, c.lease_until = 'queued', '', '0', ZERO, ZERO
end

-- offer_reply is c's current offer: call, agent, queue, token, at, node.
local function offer_reply(c)
  return {c.id, c.agent, c.queue, c.token, c.offered, c.node}
end

-- Agents -----------------------------------------------------------------

local AGENT_FIELDS = {'id', 'state', 'reason', 'since', 'idle', 'call', 'queue', 'token', 'wrap', 'misses',
  'pending', 'preason'}

local function load_skills(id)
  local r = redis.call('HGETALL', P .. 'skills:' .. id)
  local s = {}
  for i = 1, #r, 2 do s[r[i]] = tonumber(r[i + 1]) end
  return s
end

local function load_agent(id)
  local a = hgetall(P .. 'agent:' .. id)
  if a then
    a.skills = load_skills(id)
    if a.misses == nil then a.misses = '0' end
  end
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

-- timed reports whether a is in the wrap index: in wrap-up, or not_ready
-- until a time after a missed offer.
local function timed(a)
  return a.state == 'wrap_up' or (a.state == 'not_ready' and a.wrap ~= ZERO)
end

local function unindex_agent(a)
  if a.state == 'ready' then
    redis.call('ZREM', P .. 'ready', a.id)
    for skill, level in pairs(a.skills) do redis.call('ZREM', P .. 'ready:' .. skill, ready_member(a, level)) end
  end
  if a.state ~= 'logged_out' then
    for skill in pairs(a.skills) do redis.call('SREM', P .. 'online:' .. skill, a.id) end
  end
  if timed(a) then
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
  if timed(a) then
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

-- release frees an agent whose offer ended through no fault of its own (the
-- caller hung up, the lease passed, the call's node was lost): ready with
-- idle unchanged (its place among idle agents), or its pending state.
local function release(a, now)
  clear_call(a)
  a.since = now
  if not apply_pending(a) then a.state, a.reason = 'ready', '' end
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

-- call_agent returns the agent holding call c's current offer, or nil.
local function call_agent(c)
  if c.state == 'queued' then return nil end
  local a = load_agent(c.agent)
  if not a or a.call ~= c.id or a.token ~= c.token then return nil end -- not reachable while the invariants hold
  return a
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

-- match: ARGV[2] now. One pass at now, all in this one script, in order:
-- (1) lost nodes, (2) expired offer leases, (3) agent timers (wrap-up and
-- miss-delay ends), (4) overflows, (5) the greedy matching pass, recording
-- every offer; then Next. Returns {offers, overflowed, wrap_ended, next,
-- lost, lost_nodes, expired}: offers and expired flat (call, agent, queue,
-- token, at, node) sextuples in order, overflowed and lost arrays of call
-- field lists, next a time ('' for none).
local now = ARGV[2]
local now_ms = tscore(now)
local BATCH = 64

local function due(t) return not tlt(now, t) end

-- (1) Nodes whose heartbeat lapsed (until at or before now), in id order;
-- each one's calls in (key, seq) order.
local lost, lost_nodes = {}, {}
local lapsed = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', fmtint(now_ms))) do
  local n = hgetall(P .. 'node:' .. id)
  if n and due(n['until']) then lapsed[#lapsed + 1] = {id = id, lost = n.lost} end
end
table.sort(lapsed, function(x, y) return x.id < y.id end)
for _, n in ipairs(lapsed) do
  local calls = {}
  for _, cid in ipairs(redis.call('SMEMBERS', P .. 'nodecalls:' .. n.id)) do
    local c = load_call(cid)
    if c and c.node == n.id then calls[#calls + 1] = c end
  end
  table.sort(calls, function(x, y)
    if x.key ~= y.key then return tlt(x.key, y.key) end
    return tonumber(x.seq) < tonumber(y.seq)
  end)
  for _, c in ipairs(calls) do
    lost[#lost + 1] = flat(c, CALL_FIELDS)
    local a = call_agent(c)
    delete_call(c)
    if a then
      local oa = copy(a)
      if c.state == 'offered' then
        release(a, now)
      elseif n.lost == 'not_ready' then
        clear_call(a)
        a.since = now
        if not apply_pending(a) then a.state, a.reason = 'not_ready', 'node_lost' end
      else
        end_call(a, tonumber(c.wrap), now)
      end
      save_agent(oa, a)
    end
  end
  redis.call('DEL', P .. 'node:' .. n.id, P .. 'nodecalls:' .. n.id)
  redis.call('ZREM', P .. 'nodes', n.id)
  lost_nodes[#lost_nodes + 1] = n.id
end

-- (2) Offers whose lease passed, by (lease until, seq): the call is queued
-- again (not a miss), the agent released.
local expired = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'lease', '-inf', fmtint(now_ms))) do
  local c = load_call(string.sub(m, 27))
  if c and c.state == 'offered' and c.lease_until ~= ZERO and due(c.lease_until) then
    for _, v in ipairs(offer_reply(c)) do expired[#expired + 1] = v end
    local a = call_agent(c)
    local oc = copy(c)
    requeue(c)
    save_call(oc, c)
    if a then
      local oa = copy(a)
      release(a, now)
      save_agent(oa, a)
    end
  end
end

-- (3) Agent timers at or before now, by (wrap, id): wrap-ups and miss
-- delays end; the agent is idle from that moment (or takes its pending
-- state).
local wrap_ended = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'wrap', '-inf', fmtint(now_ms))) do
  local a = load_agent(string.sub(m, 7))
  if a and timed(a) and due(a.wrap) then
    local old = copy(a)
    free(a, a.wrap)
    save_agent(old, a)
    wrap_ended[#wrap_ended + 1] = a.id
  end
end

-- (4) Queued calls whose deadline is at or before now, by (deadline, seq).
local overflowed = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'deadline', '-inf', fmtint(now_ms))) do
  local c = load_call(string.sub(m, 27))
  if c and c.state == 'queued' and due(c.dl) then
    overflowed[#overflowed + 1] = flat(c, CALL_FIELDS)
    delete_call(c)
  end
end

-- (5) The greedy pass. Sources are sorted sets of queued calls: each ready
-- agent's preferred-agent set, and for each skill a ready agent has, the
-- queues holding queued calls with that skill among their steps (qs). They
-- are merged in (key, seq) order. Index changes of the calls offered are
-- deferred to the end of the pass, so the sets do not move under the rank
-- cursors; a call met twice is skipped by the seen set.
local offers = {}
local ready = redis.call('ZRANGE', P .. 'ready', 0, -1)
local ready_left = #ready
local sources = {}
local function add_source(z, skill, agent)
  sources[#sources + 1] = {z = z, skill = skill, agent = agent, pos = 0, buf = {}, bi = 1}
end
if ready_left > 0 then
  local skills, skill_list = {}, {}
  for _, id in ipairs(ready) do
    if redis.call('EXISTS', P .. 'pref:' .. id) == 1 then add_source(P .. 'pref:' .. id, nil, id) end
    for _, skill in ipairs(redis.call('HKEYS', P .. 'skills:' .. id)) do
      if not skills[skill] then
        skills[skill] = true
        skill_list[#skill_list + 1] = skill
      end
    end
  end
  table.sort(skill_list)
  for _, skill in ipairs(skill_list) do
    local queues = redis.call('HKEYS', P .. 'qs:' .. skill)
    table.sort(queues)
    for _, q in ipairs(queues) do add_source(P .. 'q:' .. q, skill, nil) end
  end
end

-- advance moves s to its next call and reports whether there is one.
local function advance(s)
  if s.bi > #s.buf then
    s.buf = redis.call('ZRANGE', s.z, s.pos, s.pos + BATCH - 1, 'WITHSCORES')
    s.pos = s.pos + BATCH
    s.bi = 1
  end
  if s.bi > #s.buf then
    s.head = nil
    return false
  end
  local m, score = s.buf[s.bi], s.buf[s.bi + 1]
  s.bi = s.bi + 2
  s.head = {ms = tonumber(score), rem = tonumber(string.sub(m, 1, 6)), seq = tonumber(string.sub(m, 7, 26)),
    id = string.sub(m, 27)}
  return true
end

local function before(x, y)
  if x.ms ~= y.ms then return x.ms < y.ms end
  if x.rem ~= y.rem then return x.rem < y.rem end
  return x.seq < y.seq
end

local function best_ready(skill)
  local r = redis.call('ZRANGE', P .. 'ready:' .. skill, 0, 0)
  if #r == 0 then return nil end
  return load_agent(string.sub(r[1], 22))
end

local function is_ready(id) return redis.call('ZSCORE', P .. 'ready', id) ~= false end

-- live reports whether a source may still give an offer: its preferred
-- agent is ready, or some ready agent has its skill.
local function live(s)
  if s.agent then return is_ready(s.agent) end
  return redis.call('ZCARD', P .. 'ready:' .. s.skill) > 0
end

-- accepts reports whether skill source s may offer c: a step of c names
-- its skill (a queue holds calls of any skill; those are met in their own
-- skills' sources).
local function accepts(s, c)
  if s.agent then return true end
  for _, st in ipairs(call_steps(c)) do
    if st.skill == s.skill then return true end
  end
  return false
end

-- pick_agent returns the agent to offer c to, or nil if there is none or c
-- is waiting for its preferred agent: the preferred agent when ready; else,
-- for the first step in force (at or before now) whose skill's best ready
-- agent has at least the step's level, that agent.
local function pick_agent(c)
  if c.pa ~= '' then
    local p = load_agent(c.pa)
    if p and p.state == 'ready' then return p end
    if p and p.state ~= 'logged_out' and tlt(now, c.pu) then return nil end
  end
  for _, st in ipairs(call_steps(c)) do
    if due(st.at) then
      local a = best_ready(st.skill)
      if a and (a.skills[st.skill] or 0) >= st.min then return a end
    end
  end
  return nil
end

local live_sources = {}
for _, s in ipairs(sources) do
  if advance(s) then live_sources[#live_sources + 1] = s end
end
sources = live_sources

local seen, offered = {}, {}
while ready_left > 0 and #sources > 0 do
  local bi = 1
  for i = 2, #sources do
    if before(sources[i].head, sources[bi].head) then bi = i end
  end
  local s = sources[bi]
  local id = s.head.id
  if not live(s) then
    table.remove(sources, bi)
  else
    if not advance(s) then table.remove(sources, bi) end
    if not seen[id] then
      local c = load_call(id)
      if c and c.state == 'queued' and accepts(s, c) then
        seen[id] = true
        local a = pick_agent(c)
        if a then
          local token = fmtint(redis.call('INCR', P .. 'token'))
          local oc, oa = copy(c), copy(a)
          c.state, c.agent, c.token, c.offered = 'offered', a.id, token, now
          local lease = tonumber(c.lease)
          if lease > 0 then c.lease_until = tadd(now, lease) else c.lease_until = ZERO end
          a.state, a.reason, a.since = 'offered', '', now
          a.call, a.queue, a.token = c.id, c.queue, token
          write_call(c)
          save_agent(oa, a)
          offered[#offered + 1] = {oc, c}
          for _, v in ipairs(offer_reply(c)) do offers[#offers + 1] = v end
          ready_left = ready_left - 1
        end
      end
    end
  end
end
for _, pair in ipairs(offered) do
  unindex_call(pair[1])
  index_call(pair[2])
end

-- Next: the earliest time after now among the agent timers, deadlines,
-- preferred-agent wait expiries, steps coming into force, offer leases and
-- node heartbeats.
local next = nil
local function consider(t)
  if tlt(now, t) and (next == nil or tlt(t, next)) then next = t end
end
local w = redis.call('ZRANGE', P .. 'wrap', 0, 0)
if #w > 0 then
  local a = load_agent(string.sub(w[1], 7))
  if a then consider(a.wrap) end
end
local d = redis.call('ZRANGE', P .. 'deadline', 0, 0)
if #d > 0 then
  local c = load_call(string.sub(d[1], 27))
  if c then consider(c.dl) end
end
local l = redis.call('ZRANGE', P .. 'lease', 0, 0)
if #l > 0 then
  local c = load_call(string.sub(l[1], 27))
  if c then consider(c.lease_until) end
end
-- Nodes: those sharing the first score differ below the millisecond.
local n = redis.call('ZRANGE', P .. 'nodes', 0, 0, 'WITHSCORES')
if #n > 0 then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', n[2], n[2])) do
    local t = redis.call('HGET', P .. 'node:' .. id, 'until')
    if t then consider(t) end
  end
end
-- scan walks a time-scored zset from now's millisecond on and considers
-- the first time after now that time_of gives for a member.
local function scan(z, time_of)
  local off = 0
  while true do
    local r = redis.call('ZRANGEBYSCORE', z, fmtint(now_ms), '+inf', 'LIMIT', off, BATCH)
    for _, m in ipairs(r) do
      local t = time_of(m)
      if t and tlt(now, t) then
        consider(t)
        return
      end
    end
    if #r < BATCH then return end
    off = off + BATCH
  end
end
scan(P .. 'preferuntil', function(m)
  local c = load_call(string.sub(m, 27))
  return c and c.pu
end)
scan(P .. 'stepat', function(m) return string.sub(m, 1, 20) end)
return {offers, overflowed, wrap_ended, next or '', lost, lost_nodes, expired}

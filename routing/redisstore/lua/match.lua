-- match: ARGV[2] now. Applies the timed transitions due at now (wrap-up
-- ends, overflows), runs the greedy matching pass and records every offer,
-- all in this one script. Returns {offers, overflowed, wrap_ended, next}:
-- offers flat (call, agent, queue, token) quadruples in the order made,
-- overflowed an array of call field lists, next a time ('' for none).
local now = ARGV[2]
local now_ms = tscore(now)
local BATCH = 64

-- Wrap-ups ending at or before now, by (wrap until, id).
local wrap_ended = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'wrap', '-inf', fmtint(now_ms))) do
  local a = load_agent(string.sub(m, 7))
  if a and a.state == 'wrap_up' and not tlt(now, a.wrap) then
    local old = copy(a)
    free(a, a.wrap) -- idle from the moment the wrap-up ended
    save_agent(old, a)
    wrap_ended[#wrap_ended + 1] = a.id
  end
end

-- Queued calls whose deadline is at or before now, by (deadline, seq).
local overflowed = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'deadline', '-inf', fmtint(now_ms))) do
  local c = load_call(string.sub(m, 27))
  if c and c.state == 'queued' and not tlt(now, c.dl) then
    overflowed[#overflowed + 1] = flat(c, CALL_FIELDS)
    delete_call(c)
  end
end

-- The greedy pass. Sources are sorted sets of queued calls: each ready
-- agent's preferred-agent set, and for each skill a ready agent has, the
-- queues holding queued calls of that skill. They are merged in (key, seq)
-- order. Index removals of the calls offered are deferred to the end of the
-- pass, so the sets do not move under the rank cursors; a call met twice is
-- skipped by the seen set.
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

-- pick_agent returns the best ready agent for c, or nil if there is none or
-- c is waiting for its preferred agent.
local function pick_agent(c)
  if c.pa ~= '' then
    local p = load_agent(c.pa)
    if p and p.state == 'ready' then return p end
    if p and p.state ~= 'logged_out' and tlt(now, c.pu) then return nil end
  end
  return best_ready(c.skill)
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
      -- A queue may hold calls of another skill: those are met in their own
      -- skill's source.
      if c and c.state == 'queued' and (s.agent or c.skill == s.skill) then
        seen[id] = true
        local a = pick_agent(c)
        if a then
          local token = fmtint(redis.call('INCR', P .. 'token'))
          local oc, oa = copy(c), copy(a)
          c.state, c.agent, c.token, c.offered = 'offered', a.id, token, now
          a.state, a.reason, a.since = 'offered', '', now
          a.call, a.queue, a.token = c.id, c.queue, token
          write_call(c)
          save_agent(oa, a)
          offered[#offered + 1] = oc
          offers[#offers + 1] = c.id
          offers[#offers + 1] = a.id
          offers[#offers + 1] = c.queue
          offers[#offers + 1] = token
          ready_left = ready_left - 1
        end
      end
    end
  end
end
for _, oc in ipairs(offered) do unindex_call(oc) end

-- Next: the earliest wrap-up end, deadline or preferred-agent wait expiry
-- after now.
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
local off = 0
while true do
  local r = redis.call('ZRANGEBYSCORE', P .. 'preferuntil', fmtint(now_ms), '+inf', 'LIMIT', off, BATCH)
  local found = false
  for _, m in ipairs(r) do
    local c = load_call(string.sub(m, 27))
    if c and tlt(now, c.pu) then
      consider(c.pu)
      found = true
      break
    end
  end
  if found or #r < BATCH then break end
  off = off + BATCH
end
return {offers, overflowed, wrap_ended, next or ''}

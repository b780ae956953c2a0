-- finish: ARGV[2] call id, ARGV[3] agent id, ARGV[4] token, ARGV[5] now.
-- Returns {'OK', call fields as they were}.
local now = ARGV[5]
local c, a, err = current_offer(ARGV[2], ARGV[3], ARGV[4], 'talking')
if err then return err end
local oa = copy(a)
delete_call(c)
end_call(a, tonumber(c.wrap), now)
save_agent(oa, a)
return {'OK', flat(c, CALL_FIELDS)}

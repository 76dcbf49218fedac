-- Append a batch of events atomically, idempotently, with optional expected versions.
--
-- KEYS: for each target stream s: KEYS[2s-1] = the stream, KEYS[2s] = its dedup index.
-- ARGV: [1] S, then S expected versions ('' = append regardless of version), then the
--       packed events (see lib.lua): stream index s, then the FIELDS values, per event;
--       then 'count' to get only the number of new events back (bulk loads).
-- Returns a flat array: position, duplicate flag (1/0), for each event in order.
--
-- Every check runs before the first write, so a conflict writes nothing. A batch whose
-- events are all stored already (a retry) returns their original positions.

local S = tonumber(ARGV[1])
local v = cmsgpack.unpack(ARGV[2 + S])
local stride = NFIELDS + 1

for s = 1, S do
    local expected = ARGV[1 + s]
    if expected ~= '' then
        local ids = KEYS[2 * s]
        local has_new = false
        for at = 1, #v, stride do
            if v[at] == s and redis.call('HEXISTS', ids, v[at + 1]) == 0 then
                has_new = true
                break
            end
        end
        if has_new then
            local stream = KEYS[2 * s - 1]
            local actual = current_version(stream)
            if actual ~= tonumber(expected) then
                return redis.error_reply('IXCONFLICT ' .. stream .. ' ' .. expected .. ' ' .. actual)
            end
        end
    end
end

local appender = new_appender()
for at = 1, #v, stride do
    appender.expect(KEYS[2 * v[at]], v[at + 1])
end
appender.load()
local out, new = {}, 0
local positions = ARGV[3 + S] ~= 'count'
for at = 1, #v, stride do
    local s = v[at]
    local position, duplicate = appender.append(KEYS[2 * s - 1], KEYS[2 * s], v, at + 1)
    new = new + 1 - duplicate
    if positions then
        out[#out + 1] = position
        out[#out + 1] = duplicate
    end
end
appender.flush()
if positions then
    return out
end
return new

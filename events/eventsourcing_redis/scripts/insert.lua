-- Insert what the eventsourcing library asks for, atomically: aggregate events, their
-- notifications in the application's log, and a tracking record.
--
-- KEYS: [1] notification log, [2] its index, [3] tracking hash, then one aggregate
--       stream per originator in the batch.
-- ARGV: [1] '1' to write notifications ('0' for an aggregate recorder),
--       [2] the tracked upstream application ('' for none), [3] its notification id,
--       [4] the packed events (see lib.lua): each is its aggregate stream's index (from
--       1), then its FIELDS values; the version value is the originator version.
-- Returns the new notification ids, in order (none without notifications).
--
-- 1. Checks, before any write: each aggregate's new versions must come after its last
--    stored version, in order; the tracked id must come after the last one tracked.
--    A failed check writes nothing and raises IXINTEGRITY.
-- 2. Each event goes to its aggregate stream; with notifications, also to the log under
--    the position <ms>-<N>, where N is its notification id (one more than the last, so
--    ids are contiguous and never interleave) and ms the time, never less than the
--    last entry's. The index records N -> ms, so a notification id finds its position.

local log, index, tracking = KEYS[1], KEYS[2], KEYS[3]
local with_log = ARGV[1] == '1'
local upstream, tracked = ARGV[2], tonumber(ARGV[3])
local v = cmsgpack.unpack(ARGV[4])
local stride = NFIELDS + 1

local function last_version(stream)
    local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
    if #last == 0 then
        return false
    end
    local fields = last[1][2]
    for i = 1, #fields, 2 do
        if fields[i] == VERSION_FIELD then
            return tonumber(fields[i + 1])
        end
    end
    return false
end

if upstream ~= '' then
    local current = redis.call('HGET', tracking, upstream)
    if current and tonumber(current) >= tracked then
        return redis.error_reply('IXINTEGRITY tracking of ' .. upstream .. ' is at '
            .. current .. ', not below ' .. ARGV[3])
    end
end

local last = {}
for at = 1, #v, stride do
    local s = v[at]
    if last[s] == nil then
        last[s] = last_version(KEYS[3 + s])
    end
    local version = tonumber(v[at + 1 + VERSION_INDEX])
    if last[s] ~= false and version <= last[s] then
        return redis.error_reply('IXINTEGRITY ' .. KEYS[3 + s] .. ' is at version '
            .. last[s] .. ', cannot record version ' .. version)
    end
    last[s] = version
end

local ids, indexed = {}, {}
local ms, n = 0, 0
if with_log and #v > 0 then
    local top = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
    if #top > 0 then
        ms, n = id_parts(top[1][1])
    end
    local now = redis.call('TIME')
    ms = math.max(ms, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
end
local stamp = string.format('%.0f', ms)
for at = 1, #v, stride do
    xadd_event(KEYS[3 + v[at]], '*', v, at + 1)
    if with_log then
        n = n + 1
        local id = string.format('%.0f', n)
        xadd_event(log, stamp .. '-' .. id, v, at + 1)
        ids[#ids + 1] = n
        indexed[#indexed + 1] = id
        indexed[#indexed + 1] = stamp
    end
end
for from = 1, #indexed, 2000 do
    redis.call('HSET', index, unpack(indexed, from, math.min(from + 1999, #indexed)))
end
if upstream ~= '' then
    redis.call('HSET', tracking, upstream, ARGV[3])
end
return ids

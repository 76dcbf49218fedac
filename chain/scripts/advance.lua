-- One atomic step of a chain watcher: its new events, its window of recent blocks, the
-- reorged block hashes, and its cursor, all in the {chain} hash slot.
--
-- KEYS: [1] the journal stream, [2] its dedup index, [3] the cursor, [4] the window,
--       [5] the reorged counts, [6] the watcher's lease.
-- ARGV: [1] the lease owner ('' for a range job, which holds no lease and moves no cursor),
--       [2] the expected cursor ('' = none yet, '*' = do not check),
--       [3] the new cursor ('' = leave it), [4] the packed events (see lib.lua; stream
--       index 1), [5] packed window fields to set (field, value, ...), [6] packed window
--       fields to delete, [7] packed block hashes that were retracted.
-- Returns how many events were new.
--
-- 1. Fencing: a watcher that lost its lease (stalled past it) writes nothing.
-- 2. The cursor must be where the watcher read it: a second writer cannot interleave.
-- 3. Events are appended unless their id is there already (a re-read block, a backfill
--    over blocks the watcher followed), then the window, the counts and the cursor.

local journal, ids, cursor, window, reorged, lease = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local owner, expected, moved_to = ARGV[1], ARGV[2], ARGV[3]

if owner ~= '' and redis.call('GET', lease) ~= owner then
    return redis.error_reply('IXLEASELOST ' .. lease)
end
if expected ~= '*' then
    local current = redis.call('GET', cursor) or ''
    if current ~= expected then
        return redis.error_reply('IXCURSOR ' .. cursor .. ' is at ' .. current)
    end
end

local v = cmsgpack.unpack(ARGV[4])
local stride = NFIELDS + 1
local appender = new_appender()
for at = 1, #v, stride do
    appender.expect(ids, v[at + 1])
end
appender.load()
local new = 0
for at = 1, #v, stride do
    local _, duplicate = appender.append(journal, ids, v, at + 1)
    new = new + 1 - duplicate
end
appender.flush()

local sets = cmsgpack.unpack(ARGV[5])
for from = 1, #sets, 2000 do
    redis.call('HSET', window, unpack(sets, from, math.min(from + 1999, #sets)))
end
local drops = cmsgpack.unpack(ARGV[6])
for from = 1, #drops, 1000 do
    redis.call('HDEL', window, unpack(drops, from, math.min(from + 999, #drops)))
end
for _, block_hash in ipairs(cmsgpack.unpack(ARGV[7])) do
    redis.call('HINCRBY', reorged, block_hash, 1)
end
if moved_to ~= '' then
    redis.call('SET', cursor, moved_to)
end
return new

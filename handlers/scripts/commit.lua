-- Commit a processed batch of one partition: outputs, tracking, acknowledgements and
-- counters, in one atomic step (exactly-once effects inside Redis).
--
-- KEYS: [1] lease, [2] tracking hash, [3] stats hash, then I input streams, then for each
--       output stream: the stream and its dedup index.
-- ARGV: [1] group, [2] consumer, [3] I, [4] failed attempts to count, [5] the packed
--       entries (see lib.lua), each: input index, entry id, status ('ok' | 'dead' |
--       'gone'), output count n, then n outputs, each: output index, FIELDS values.
-- Returns {processed, duplicates, dead_lettered}.
--
-- 1. Fencing: nothing is written unless `consumer` still holds the partition's lease,
--    so a worker that stalled past its lease cannot commit over its successor.
-- 2. An entry at or before the tracked position was committed already (a redelivery):
--    it is acknowledged, and its outputs are not written again.
-- 3. Every other entry's outputs are appended, the tracking position advances (and
--    when, in the stats hash's `advanced_at`, Redis time in milliseconds: what tells a
--    stalled partition), and all entries are acknowledged.

local lease, tracking, stats = KEYS[1], KEYS[2], KEYS[3]
local group, consumer = ARGV[1], ARGV[2]
local I = tonumber(ARGV[3])
local failed = tonumber(ARGV[4])
local v = cmsgpack.unpack(ARGV[5])

if redis.call('GET', lease) ~= consumer then
    return redis.error_reply('IXLEASELOST ' .. lease)
end

-- First pass: which entries are new (after the tracked position), and which output ids
-- the appender should look up.
local tracked, advanced, acks = {}, {}, {}
local output_stride = 1 + NFIELDS
local appender = new_appender()
local entries = {}
local at = 1
while at <= #v do
    local input, id, status, outputs = v[at], v[at + 1], v[at + 2], v[at + 3]
    local stream = KEYS[3 + input]
    if tracked[input] == nil then
        tracked[input] = redis.call('HGET', tracking, stream) or false
    end
    local new = not (tracked[input] and id_at_or_before(id, tracked[input]))
    if new then
        tracked[input], advanced[input] = id, true
        for k = 0, outputs - 1 do
            local o = v[at + 4 + k * output_stride]
            appender.expect(KEYS[3 + I + 2 * o], v[at + 5 + k * output_stride])
        end
    end
    entries[#entries + 1] = {input, id, status, outputs, at + 4, new}
    acks[input] = acks[input] or {}
    table.insert(acks[input], id)
    at = at + 4 + outputs * output_stride
end
appender.load()

-- Second pass: write the outputs of new entries, in order.
local processed, duplicates, dead = 0, 0, 0
for _, entry in ipairs(entries) do
    local status, outputs, first, new = entry[3], entry[4], entry[5], entry[6]
    if new then
        for k = 0, outputs - 1 do
            local o = v[first + k * output_stride]
            appender.append(KEYS[3 + I + 2 * o - 1], KEYS[3 + I + 2 * o], v, first + 1 + k * output_stride)
        end
        if status == 'ok' then
            processed = processed + 1
        elseif status == 'dead' then
            dead = dead + 1
        end
    else
        duplicates = duplicates + 1
    end
end
appender.flush()

for input, ids in pairs(acks) do
    for from = 1, #ids, 1000 do
        redis.call('XACK', KEYS[3 + input], group, unpack(ids, from, math.min(from + 999, #ids)))
    end
end
for input in pairs(advanced) do
    redis.call('HSET', tracking, KEYS[3 + input], tracked[input])
end
if next(advanced) ~= nil then
    local now = redis.call('TIME')
    redis.call('HSET', stats, 'advanced_at', now[1] * 1000 + math.floor(now[2] / 1000))
end
if processed > 0 then redis.call('HINCRBY', stats, 'processed', processed) end
if duplicates > 0 then redis.call('HINCRBY', stats, 'duplicates', duplicates) end
if dead > 0 then redis.call('HINCRBY', stats, 'dead_lettered', dead) end
if failed > 0 then redis.call('HINCRBY', stats, 'failed', failed) end
return {processed, duplicates, dead}

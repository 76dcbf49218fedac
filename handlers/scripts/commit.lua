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
-- 3. Every other entry's outputs are appended, the tracking position advances, and all
--    entries are acknowledged.

local lease, tracking, stats = KEYS[1], KEYS[2], KEYS[3]
local group, consumer = ARGV[1], ARGV[2]
local I = tonumber(ARGV[3])
local failed = tonumber(ARGV[4])
local v = cmsgpack.unpack(ARGV[5])

if redis.call('GET', lease) ~= consumer then
    return redis.error_reply('IXLEASELOST ' .. lease)
end

local tracked, advanced, acks = {}, {}, {}
local processed, duplicates, dead = 0, 0, 0
local output_stride = 1 + NFIELDS
local at = 1
while at <= #v do
    local input, id, status, outputs = v[at], v[at + 1], v[at + 2], v[at + 3]
    at = at + 4
    local stream = KEYS[3 + input]
    if tracked[input] == nil then
        tracked[input] = redis.call('HGET', tracking, stream) or false
    end
    if tracked[input] and id_at_or_before(id, tracked[input]) then
        duplicates = duplicates + 1
        at = at + outputs * output_stride
    else
        for _ = 1, outputs do
            local o = v[at]
            append_event(KEYS[3 + I + 2 * o - 1], KEYS[3 + I + 2 * o], v, at + 1)
            at = at + output_stride
        end
        tracked[input], advanced[input] = id, true
        if status == 'ok' then
            processed = processed + 1
        elseif status == 'dead' then
            dead = dead + 1
        end
    end
    acks[input] = acks[input] or {}
    table.insert(acks[input], id)
end

for input, ids in pairs(acks) do
    for from = 1, #ids, 1000 do
        redis.call('XACK', KEYS[3 + input], group, unpack(ids, from, math.min(from + 999, #ids)))
    end
end
for input in pairs(advanced) do
    redis.call('HSET', tracking, KEYS[3 + input], tracked[input])
end
if processed > 0 then redis.call('HINCRBY', stats, 'processed', processed) end
if duplicates > 0 then redis.call('HINCRBY', stats, 'duplicates', duplicates) end
if dead > 0 then redis.call('HINCRBY', stats, 'dead_lettered', dead) end
if failed > 0 then redis.call('HINCRBY', stats, 'failed', failed) end
return {processed, duplicates, dead}

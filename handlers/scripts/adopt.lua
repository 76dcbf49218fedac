-- Move every pending entry of a stream's group to the new owner of its partition.
--
-- KEYS: [1] lease, [2] stream. ARGV: [1] group, [2] consumer, [3] most entries to move.
-- Returns {moved ids, ids of entries deleted from the stream while pending}.
--
-- Run once when a consumer takes a partition over: whoever held it before is gone (its
-- lease expired or it released it), so its pending entries are ours to finish, in order.
-- JUSTID keeps delivery counts unchanged, so a takeover is not counted as an attempt; the
-- third element of the reply (Redis 7+) lists ids whose entries were deleted meanwhile,
-- which redis-py's own parsing drops.

if redis.call('GET', KEYS[1]) ~= ARGV[2] then
    return redis.error_reply('IXLEASELOST ' .. KEYS[1])
end
local moved, deleted = {}, {}
local cursor = '0-0'
local limit = tonumber(ARGV[3])
repeat
    local reply = redis.call('XAUTOCLAIM', KEYS[2], ARGV[1], ARGV[2], 0, cursor,
        'COUNT', 1000, 'JUSTID')
    cursor = reply[1]
    for _, id in ipairs(reply[2]) do
        moved[#moved + 1] = id
    end
    for _, id in ipairs(reply[3] or {}) do
        deleted[#deleted + 1] = id
    end
until cursor == '0-0' or #moved >= limit
return {moved, deleted}

-- Release held alerts that are due: each goes to the notify handler's retry stream and
-- leaves the hold, in one step, so it is released exactly once however many workers run
-- this at the same time.
-- KEYS: [1] held (sorted set), [2] held entries (hash), [3] the retry stream.
-- ARGV: [1] now (ms), [2] at most this many.
-- Returns the released alert event ids.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
    local packed = redis.call('HGET', KEYS[2], id)
    if packed then
        xadd_event(KEYS[3], '*', cmsgpack.unpack(packed), 1)
    end
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
end
return due

-- Move dead letters back to their handler: each original entry is appended to the
-- handler's retry stream and its dead letter deleted, all or nothing.
--
-- KEYS: [1] dead-letter stream, [2] retry stream, [3] stats hash (all in one partition).
-- ARGV: [1] the packed letters, each: dead-letter id, field count n, then n name/value
--       pairs (the original entry's fields, in their stored order).
-- Returns the retry stream ids, in order; 'IXUNKNOWN <id>' (nothing moved) when a
-- dead letter is not there (never was, or retried or discarded meanwhile).

local v = cmsgpack.unpack(ARGV[1])

local letters = {}
local at = 1
while at <= #v do
    local id, n = v[at], v[at + 1]
    if #redis.call('XRANGE', KEYS[1], id, id, 'COUNT', 1) == 0 then
        return redis.error_reply('IXUNKNOWN ' .. id)
    end
    letters[#letters + 1] = {id, at + 2, n}
    at = at + 2 + 2 * n
end

local moved = {}
for _, letter in ipairs(letters) do
    local id, first, n = letter[1], letter[2], letter[3]
    moved[#moved + 1] = redis.call('XADD', KEYS[2], '*', unpack(v, first, first + 2 * n - 1))
    redis.call('XDEL', KEYS[1], id)
end
if #moved > 0 then redis.call('HINCRBY', KEYS[3], 'retried', #moved) end
return moved

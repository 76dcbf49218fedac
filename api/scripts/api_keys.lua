-- Apply API key changes read from the users' log, each once and in the log's order.
-- Every API process folds the log into the same table; a change at or before the table's
-- position was applied already (by this process or another) and is skipped, so an old
-- issue can never undo a later revocation.
-- KEYS: [1] the table (a hash: key id -> record JSON, and '@position' -> last applied)
-- ARGV: [1] the position the reader has read through; then triples of
--       position, key id, record JSON ('' for a revocation: the key is removed).
-- Returns the table's position afterwards.
local function parsed(position)
    local ms, seq = string.match(position, '^(%d+)-(%d+)$')
    return tonumber(ms), tonumber(seq)
end
local function later(a, b)
    local a_ms, a_seq = parsed(a)
    local b_ms, b_seq = parsed(b)
    return a_ms > b_ms or (a_ms == b_ms and a_seq > b_seq)
end
local at = redis.call('HGET', KEYS[1], '@position') or '0-0'
for i = 2, #ARGV, 3 do
    if later(ARGV[i], at) then
        if ARGV[i + 2] == '' then
            redis.call('HDEL', KEYS[1], ARGV[i + 1])
        else
            redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[i + 2])
        end
        at = ARGV[i]
    end
end
if later(ARGV[1], at) then
    at = ARGV[1]
end
redis.call('HSET', KEYS[1], '@position', at)
return at

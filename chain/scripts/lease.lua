-- Take, renew or give back the lease of a chain's watcher, and record what it saw.
--
-- KEYS: [1] the lease, [2] the watcher's status hash.
-- ARGV: [1] the owner, [2] the time to live in milliseconds ('0' gives the lease back),
--       [3] packed status fields (field, value, ...).
-- Returns 1 when `owner` holds the lease now, 0 when another process does.

local lease, status = KEYS[1], KEYS[2]
local owner, ttl = ARGV[1], tonumber(ARGV[2])
local holder = redis.call('GET', lease)
if ttl == 0 then
    if holder == owner then
        redis.call('DEL', lease)
    end
    return 0
end
if holder and holder ~= owner then
    return 0
end
redis.call('SET', lease, owner, 'PX', ttl)
local fields = cmsgpack.unpack(ARGV[3])
if #fields > 0 then
    redis.call('HSET', status, unpack(fields))
end
return 1

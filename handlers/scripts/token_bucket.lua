-- Take one token from each of several buckets refilled continuously by elapsed time, or
-- from none of them: a request counts against its key and its user at once, or neither.
-- KEYS: the buckets (hashes: tokens, at), in one hash slot.
-- ARGV: per bucket, in KEYS' order: capacity, tokens per ms.
-- Returns {allowed (1|0), milliseconds to wait when refused (the longest),
--          tokens left (the fewest), the bucket that refused (1-based; 0 when allowed)}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local levels, wait, refused, fewest = {}, 0, 0, nil
for i, key in ipairs(KEYS) do
    local capacity, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    local state = redis.call('HMGET', key, 'tokens', 'at')
    local tokens, at = tonumber(state[1]), tonumber(state[2])
    if tokens == nil then tokens, at = capacity, now end
    tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
    levels[i] = tokens
    if tokens < 1 then
        local needed = math.ceil((1 - tokens) / rate)
        if needed > wait then wait, refused = needed, i end
    end
end
local allowed = refused == 0 and 1 or 0
for i, key in ipairs(KEYS) do
    local capacity, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    local tokens = levels[i] - allowed
    if fewest == nil or tokens < fewest then fewest = tokens end
    redis.call('HSET', key, 'tokens', tostring(tokens), 'at', now)
    redis.call('PEXPIRE', key, math.ceil(capacity / rate) + 1000)
end
return {allowed, wait, math.floor(fewest), refused}

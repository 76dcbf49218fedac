-- Take or keep a partition lease: succeed when it is free or already ours.
-- KEYS[1] lease; ARGV[1] consumer, ARGV[2] time to live in ms. Returns 1 or 0.
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then
    return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1

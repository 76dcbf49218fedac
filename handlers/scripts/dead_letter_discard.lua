-- Discard dead letters for good, counting them, all or nothing.
--
-- KEYS: [1] dead-letter stream, [2] stats hash (one partition).
-- ARGV: the dead-letter ids.
-- Returns how many were deleted; 'IXUNKNOWN <id>' (nothing deleted) when one is not there.

for _, id in ipairs(ARGV) do
    if #redis.call('XRANGE', KEYS[1], id, id, 'COUNT', 1) == 0 then
        return redis.error_reply('IXUNKNOWN ' .. id)
    end
end
for from = 1, #ARGV, 1000 do
    redis.call('XDEL', KEYS[1], unpack(ARGV, from, math.min(from + 999, #ARGV)))
end
redis.call('HINCRBY', KEYS[2], 'discarded', #ARGV)
return #ARGV

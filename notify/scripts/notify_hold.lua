-- Hold an alert's entry until a release time (quiet hours, a rate limit), idempotently.
-- KEYS: [1] held (sorted set), [2] held entries (hash). ARGV: [1] alert event id,
-- [2] release time (ms), [3] the entry's FIELDS values, packed.
-- Holding it again keeps the earlier release time (ZADD LT), so a redelivered alert
-- never postpones a hold already made.
redis.call('ZADD', KEYS[1], 'LT', tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1

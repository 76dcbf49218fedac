"""Taking from several token buckets at once: from all of them, or from none."""

from __future__ import annotations

from redis.asyncio import Redis

from handlers.token_bucket import Rate, TokenBuckets

SLOW = 1
"""A token a minute: nothing refills while a test runs."""


async def test_a_token_is_taken_from_every_bucket_or_from_none(redis: Redis, prefix: str) -> None:
    buckets = TokenBuckets(redis)
    key, user = f"{prefix}:{{rate.u}}:key", f"{prefix}:{{rate.u}}:all"
    wide, narrow = Rate(SLOW, 3), Rate(SLOW, 1)
    first = await buckets.take([(key, wide), (user, narrow)])
    assert (first.allowed, first.remaining, first.refused_by) == (True, 0, None)
    second = await buckets.take([(key, wide), (user, narrow)])
    assert (second.allowed, second.refused_by) == (False, 1)  # the user's bucket said no
    assert second.wait_ms > 0
    assert float(await redis.hget(key, "tokens") or 0) >= 2  # the key's bucket kept its token
    assert (await buckets.take([(key, wide)])).allowed


async def test_an_unlimited_bucket_never_refuses_and_is_not_kept(redis: Redis, prefix: str) -> None:
    buckets = TokenBuckets(redis)
    limited, unlimited = f"{prefix}:{{rate.u}}:a", f"{prefix}:{{rate.u}}:b"
    takes = [
        await buckets.take([(limited, Rate(SLOW, 2)), (unlimited, Rate(0, 1))]) for _ in range(3)
    ]
    assert [take.allowed for take in takes] == [True, True, False]
    assert takes[-1].refused_by == 0
    assert not await redis.exists(unlimited)

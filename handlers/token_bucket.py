"""Rate limits shared by every process: token buckets kept in Redis.

One script call refills buckets by the time elapsed since their last use (the Redis
server's clock, so processes on several hosts agree) and takes a token from each, or
from none and says how long until there is one in each. The API limits requests per
API key and per user together with it; notify limits messages per user and channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from events.lua import register
from events.redis_client import RedisClient


@dataclass(frozen=True)
class Rate:
    """`per_minute` tokens on average, up to `burst` at once (0 per minute: no limit)."""

    per_minute: int
    burst: int


@dataclass(frozen=True)
class Take:
    """Whether a token was taken; if not, how long until one is there, and from which
    of the buckets asked (its index) it was missing."""

    allowed: bool
    wait_ms: int
    remaining: int
    refused_by: int | None = None


class TokenBuckets:
    """Takes a token from several buckets at once, all or none."""

    def __init__(self, redis: RedisClient) -> None:
        self._script = register(redis, "handlers", "token_bucket")

    async def take(self, buckets: Sequence[tuple[str, Rate]]) -> Take:
        """Take a token from each bucket (Redis key, rate); the keys share a hash slot."""
        limited = [
            (index, key, rate) for index, (key, rate) in enumerate(buckets) if rate.per_minute
        ]
        if not limited:
            return Take(True, 0, min((rate.burst for _, rate in buckets), default=0))
        arguments: list[str | int] = []
        for _, _, rate in limited:
            arguments += [rate.burst, repr(rate.per_minute / 60_000)]
        allowed, wait_ms, remaining, refused = await self._script(
            keys=[key for _, key, _ in limited], args=arguments
        )
        refused_by = limited[int(refused) - 1][0] if int(refused) else None
        return Take(bool(allowed), int(wait_ms), int(remaining), refused_by)


class TokenBucket:
    """One rate for buckets taken from one at a time (0 per minute: no limit)."""

    def __init__(self, redis: RedisClient, *, per_minute: int, burst: int) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self._buckets = TokenBuckets(redis)

    async def take(self, key: str) -> Take:
        """Take a token from the bucket at Redis key `key`."""
        return await self._buckets.take([(key, Rate(self.per_minute, self.burst))])

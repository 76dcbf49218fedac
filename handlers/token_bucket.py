"""Rate limits shared by every process: a token bucket per key, kept in Redis.

One script call refills the bucket by the time elapsed since its last use (the Redis
server's clock, so processes on several hosts agree) and takes a token, or says how long
until one is there. The API limits requests per API key with it; notify limits messages
per user and channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.lua import register
from events.redis_client import RedisClient


@dataclass(frozen=True)
class Take:
    """Whether a token was taken; if not, how long until one is there."""

    allowed: bool
    wait_ms: int
    remaining: int


class TokenBucket:
    """`per_minute` tokens per key on average, up to `burst` at once (0 per minute: no limit)."""

    def __init__(self, redis: RedisClient, *, per_minute: int, burst: int) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self._script = register(redis, "handlers", "token_bucket")

    async def take(self, key: str) -> Take:
        """Take a token from the bucket at Redis key `key`."""
        if self.per_minute == 0:
            return Take(True, 0, self.burst)
        rate_per_ms = self.per_minute / 60_000
        allowed, wait_ms, remaining = await self._script(
            keys=[key], args=[self.burst, repr(rate_per_ms)]
        )
        return Take(bool(allowed), int(wait_ms), int(remaining))

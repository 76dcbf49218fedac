"""Per-key rate limiting: a token bucket per API key, kept in Redis.

The bucket lives in Redis so every API process shares it; one script call per request
refills it by elapsed time (the server's clock) and takes a token, or says how long to
wait. A refused request gets 429 with Retry-After.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from events.redis_client import RedisClient
from handlers.token_bucket import TokenBucket


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int
    remaining: int


class RateLimiter:
    """`per_minute` requests per key on average, with bursts of up to `burst`."""

    def __init__(self, redis: RedisClient, prefix: str, *, per_minute: int, burst: int) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self.prefix = prefix
        self._bucket = TokenBucket(redis, per_minute=per_minute, burst=burst)

    async def take(self, key_id: str) -> Verdict:
        taken = await self._bucket.take(f"{self.prefix}:ratelimit:{key_id}")
        return Verdict(taken.allowed, math.ceil(taken.wait_ms / 1000), taken.remaining)

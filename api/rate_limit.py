"""Rate limits on the API: per key, per user, and per client address without a valid key.

Buckets live in Redis so every API process shares them (`handlers.token_bucket`). A
request with a valid key takes a token from its key's bucket and from its user's, in
one script call (both share the user's hash slot): minting more keys does not buy a
user more requests (issue 13 saw 30 keys, each with a bucket of its own). A request
without a valid key takes one from its client address's bucket, so guessing keys or
hammering the API unauthenticated is bounded too. A refused request gets 429 with
Retry-After.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from api.keys import Principal
from events.names import StreamNames
from events.redis_client import RedisClient
from handlers.token_bucket import Rate, TokenBuckets


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int
    remaining: int
    limit: str
    """Which limit refused the request, in words ("" when allowed)."""


class RateLimiter:
    """Per-key, per-user and per-address token buckets (a rate of 0 per minute: none)."""

    def __init__(
        self,
        redis: RedisClient,
        names: StreamNames,
        *,
        per_key: Rate,
        per_user: Rate,
        per_address: Rate,
    ) -> None:
        self.names = names
        self.per_key = per_key
        self.per_user = per_user
        self.per_address = per_address
        self._buckets = TokenBuckets(redis)

    async def take(self, principal: Principal) -> Verdict:
        """A token from the key's bucket and from its user's, or from neither."""
        owner = f"user.{principal.user_id}"
        taken = await self._buckets.take(
            [
                (self.names.rate_bucket(owner, f"key.{principal.key_id}"), self.per_key),
                (self.names.rate_bucket(owner, "all"), self.per_user),
            ]
        )
        limits = (
            f"this key's limit of {self.per_key.per_minute} requests per minute",
            f"the limit of {self.per_user.per_minute} requests per minute for all of a"
            " user's keys together",
        )
        limit = "" if taken.refused_by is None else limits[taken.refused_by]
        return Verdict(taken.allowed, math.ceil(taken.wait_ms / 1000), taken.remaining, limit)

    async def take_anonymous(self, address: str) -> Verdict:
        """A token from the bucket of a client address presenting no valid key."""
        bucket = self.names.rate_bucket(f"addr.{address}", "anonymous")
        taken = await self._buckets.take([(bucket, self.per_address)])
        limit = (
            ""
            if taken.allowed
            else f"the limit of {self.per_address.per_minute} requests per minute without a"
            " valid API key, per client address"
        )
        return Verdict(taken.allowed, math.ceil(taken.wait_ms / 1000), taken.remaining, limit)

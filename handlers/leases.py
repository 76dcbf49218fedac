"""Who processes which partition: membership, a fair assignment, and fenced leases.

Redis consumer groups hand entries to whichever consumer asks, so two consumers of one
stream would handle events of one key concurrently and out of order. We keep Redis's
groups for delivery tracking (pending lists, redelivery, lag) and add one rule on top:
a partition is processed only by the consumer holding its lease.

- Members: every consumer of a handler renews its entry in a sorted set, scored by when
  its heartbeat expires (Redis's clock, so hosts with skewed clocks agree).
- Assignment: all members sort the live member list the same way and deal partitions
  round-robin, so they agree on who should own what without talking to each other.
- Leases: a partition's lease is a key with a time to live. A consumer takes a lease only
  when it is free, renews it while it works, and gives it back when the assignment moves
  it elsewhere. A consumer that dies stops renewing; its leases expire and its
  partitions move. The commit script checks the lease, so a consumer that stalled past
  its lease cannot write over its successor.
"""

from __future__ import annotations

from events.lua import register
from events.names import StreamNames
from events.redis_client import RedisClient, text


async def server_time_ms(redis: RedisClient) -> int:
    """Redis's clock: every member uses it, so hosts with skewed clocks agree."""
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def live_members(redis: RedisClient, names: StreamNames, group: str) -> list[str]:
    """The consumers of `group` whose heartbeat has not expired, sorted."""
    live = await redis.zrangebyscore(names.members(group), await server_time_ms(redis), "+inf")
    return sorted(text(member) for member in live)


class Membership:
    """One consumer's view of its handler's members and partition leases."""

    def __init__(
        self, redis: RedisClient, names: StreamNames, group: str, consumer: str, ttl_ms: int
    ) -> None:
        self.redis = redis
        self.names = names
        self.group = group
        self.consumer = consumer
        self.ttl_ms = ttl_ms
        self._members = names.members(group)
        self._claim = register(redis, "handlers", "lease_claim")
        self._release = register(redis, "handlers", "lease_release")

    async def heartbeat(self) -> list[str]:
        """Renew our membership, forget expired members, and return the live ones, sorted."""
        now_ms = await server_time_ms(self.redis)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self._members, {self.consumer: now_ms + self.ttl_ms})
        pipe.zremrangebyscore(self._members, "-inf", now_ms)
        pipe.zrangebyscore(self._members, now_ms, "+inf")
        *_, live = await pipe.execute()
        return sorted(text(member) for member in live)

    async def leave(self) -> None:
        """Stop being a member, so the others take our partitions over at once."""
        await self.redis.zrem(self._members, self.consumer)

    def assigned(self, live: list[str], tags: list[str]) -> list[str]:
        """The partitions the assignment gives us: every n-th, by our rank among members."""
        if self.consumer not in live:
            return []
        rank, count = live.index(self.consumer), len(live)
        return [tag for index, tag in enumerate(tags) if index % count == rank]

    async def claim(self, tag: str) -> bool:
        """Take the lease of partition `tag` if it is free, or renew it if it is ours."""
        lease = self.names.lease(tag, self.group)
        return bool(await self._claim(keys=[lease], args=[self.consumer, self.ttl_ms]))

    async def release(self, tag: str) -> None:
        """Give the lease of partition `tag` back, if it is still ours."""
        await self._release(keys=[self.names.lease(tag, self.group)], args=[self.consumer])

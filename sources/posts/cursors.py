"""Where each X query left off: its ``since_id``, kept in Redis so a restart resumes.

One hash per source under the stream prefix (``<prefix>:cursors:<source>``), one field
per query (a search, or ``user:<handle>`` for a timeline), the newest post id seen as a
string. A cursor is saved only after the posts it covers are stored; should a process
die between the two, the next run asks again from the older cursor and the store drops
what it holds already.
"""

from __future__ import annotations

from redis.exceptions import RedisError

from events.errors import InfrastructureError
from events.redis_client import RedisClient


def newer(first: str, second: str) -> bool:
    """Whether post id `first` is newer than `second` (X ids are numbers as text)."""
    return (len(first), first) > (len(second), second)


class SinceIds:
    """The ``since_id`` of each query of one source."""

    def __init__(self, redis: RedisClient, prefix: str, source: str) -> None:
        self.redis = redis
        self.key = f"{prefix}:cursors:{source}"

    async def get(self, query: str) -> str | None:
        try:
            value = await self.redis.hget(self.key, query)
        except RedisError as error:
            raise InfrastructureError(f"cannot read the {self.key} cursors: {error}") from error
        return value.decode() if isinstance(value, bytes) else value

    async def advance(self, query: str, since_id: str) -> None:
        """Record `since_id` for `query`, unless the stored cursor is newer already."""
        current = await self.get(query)
        if current is not None and not newer(since_id, current):
            return
        try:
            await self.redis.hset(self.key, query, since_id)
        except RedisError as error:
            raise InfrastructureError(f"cannot save the {self.key} cursors: {error}") from error

"""The streams an operator looks at, with their groups: for the admin API, /readyz and the
metrics alike."""

from __future__ import annotations

from redis.exceptions import ResponseError

from events.names import StreamNames
from events.redis_client import RedisClient
from handlers.monitoring import StreamStatus, list_streams, stream_status

AGGREGATE_KINDS = ("agg.", "snap.")
"""Categories of one aggregate's own stream: its events are in its application's log too."""


async def streams_status(
    redis: RedisClient, names: StreamNames, category: str | None = None
) -> list[StreamStatus]:
    """Every stream but single aggregates' (their events are in the logs), with groups."""
    statuses = []
    for stream in await list_streams(redis, names):
        found = names.parse(stream)[1]
        if found.startswith(AGGREGATE_KINDS) or (category is not None and found != category):
            continue
        try:
            statuses.append(await stream_status(redis, names, stream))
        except ResponseError:  # deleted between SCAN and XINFO
            continue
    return statuses

"""The Redis client types the store and runtime accept: one node or a cluster."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

RedisClient = Redis | RedisCluster
"""A redis-py asyncio client. Both kinds run our scripts; only the cluster needs every
key of one call in one hash slot, which our key names guarantee."""


def is_cluster(client: RedisClient) -> bool:
    """Whether multi-key operations must be split by hash slot."""
    return isinstance(client, RedisCluster)


Fields = dict[bytes, bytes]
Entry = tuple[bytes, Fields]


def entries(reply: object) -> list[Entry]:
    """An XRANGE/XREVRANGE reply, typed as our clients return it (bytes, never decoded).

    redis-py annotates replies as unions of bytes and str because it cannot know that
    we never ask it to decode; this is the one place that says so.
    """
    return cast(list[Entry], reply or [])


def stream_replies(reply: object) -> list[tuple[bytes, list[Entry]]]:
    """An XREAD/XREADGROUP reply as (stream, entries) pairs; empty when nothing came."""
    return cast(list[tuple[bytes, list[Entry]]], reply or [])


def text(value: object) -> str:
    """A reply value as text."""
    return value.decode() if isinstance(value, bytes) else str(value)

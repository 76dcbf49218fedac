"""Redis clients: the kinds the store and runtime accept, and how we configure them.

The asyncio clients serve the store and the runtime; the synchronous ones serve the
`eventsourcing` library, which is synchronous and runs in threads.
"""

from __future__ import annotations

import socket
from typing import Any, cast

import redis
import redis.cluster
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

RedisClient = Redis | RedisCluster
"""A redis-py asyncio client. Both kinds run our scripts; only the cluster needs every
key of one call in one hash slot, which our key names guarantee."""


SyncRedisClient = redis.Redis | redis.cluster.RedisCluster


def is_cluster(client: RedisClient) -> bool:
    """Whether multi-key operations must be split by hash slot."""
    return isinstance(client, RedisCluster)


def client_options() -> dict[str, Any]:
    """Options every client of ours shares (values in the URL still win).

    No socket timeout (redis-py's default is 5 s): workers block in XREADGROUP for
    `block_ms`, which may be longer, and on Python 3.11 a socket timeout's `wait_for`
    can swallow the cancellation of a task in flight. TCP keepalive instead notices a
    peer that vanished without closing the connection, within about a minute.
    """
    keepalive: dict[int, int] = {}
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):
            keepalive[getattr(socket, name)] = value
    return {
        "socket_timeout": None,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "socket_keepalive_options": keepalive,
        "health_check_interval": 30,
    }


def sync_client(url: str) -> SyncRedisClient:
    """A synchronous client for `url`: a cluster client when the node is in a cluster."""
    with redis.Redis.from_url(url, socket_connect_timeout=5) as probe:
        clustered = probe.info("cluster").get("cluster_enabled")
    if clustered:
        return redis.cluster.RedisCluster.from_url(url, **client_options())
    return redis.Redis.from_url(url, **client_options())


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


def hash_fields(reply: object) -> Fields:
    """An HGETALL reply, typed as our clients return it (bytes, never decoded)."""
    return cast(Fields, reply or {})


def text(value: object) -> str:
    """A reply value as text."""
    return value.decode() if isinstance(value, bytes) else str(value)

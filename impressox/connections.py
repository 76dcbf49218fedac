"""Clients for the servers we use, built from URLs at startup (never at import)."""

from __future__ import annotations

import socket
from typing import Any

from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from events.errors import InfrastructureError
from events.redis_client import RedisClient


async def connect_redis(url: str) -> RedisClient:
    """A client for `url`: a cluster client when the node says it is part of a cluster."""
    probe = Redis.from_url(url, socket_connect_timeout=5)
    try:
        info = await probe.info("cluster")
    except RedisError as error:
        raise InfrastructureError(f"cannot reach Redis at {redact(url)}: {error}") from None
    finally:
        await probe.aclose()
    options = _client_options()
    if info.get("cluster_enabled"):
        return RedisCluster.from_url(url, **options)
    return Redis.from_url(url, **options)


def _client_options() -> dict[str, Any]:
    """Options both kinds of client share (values in the URL still win).

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


def connect_mongo(url: str) -> AsyncMongoClient[dict[str, object]]:
    """An async MongoDB client (connections are made lazily, on first use)."""
    return AsyncMongoClient(url, serverSelectionTimeoutMS=5000, tz_aware=True)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"

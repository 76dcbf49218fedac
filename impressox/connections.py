"""Clients for the servers we use, built from URLs at startup (never at import)."""

from __future__ import annotations

from functools import partial

from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from events.errors import InfrastructureError
from events.outages import through_redis_outage
from events.redis_client import RedisClient, client_options


async def connect_redis(url: str, *, wait: bool = False) -> RedisClient:
    """A client for `url`: a cluster client when the node says it is part of a cluster.

    A one-off command fails at once when Redis does not answer; a long-running process
    (`wait`: a worker, the API, a source) waits for it instead, saying so once, so that
    starting while Redis restarts is not a crash.
    """
    probe = Redis.from_url(url, socket_connect_timeout=5)
    try:
        info = await (
            through_redis_outage(partial(probe.info, "cluster")) if wait else probe.info("cluster")
        )
    except RedisError as error:
        raise InfrastructureError(f"cannot reach Redis at {redact(url)}: {error}") from None
    finally:
        await probe.aclose()
    options = client_options()
    if info.get("cluster_enabled"):
        return RedisCluster.from_url(url, **options)
    return Redis.from_url(url, **options)


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

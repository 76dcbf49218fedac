"""The Redis client types the store and runtime accept: one node or a cluster."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

RedisClient = Redis | RedisCluster
"""A redis-py asyncio client. Both kinds run our scripts; only the cluster needs every
key of one call in one hash slot, which our key names guarantee."""


def is_cluster(client: RedisClient) -> bool:
    """Whether multi-key operations must be split by hash slot."""
    return isinstance(client, RedisCluster)

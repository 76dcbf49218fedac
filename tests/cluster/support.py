"""Helpers for cluster tests: which node holds what."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster


def node_of(cluster: RedisCluster, key: str) -> str:
    """The name (host:port) of the master that serves `key`'s hash slot."""
    node = cluster.get_node_from_key(key)
    assert node is not None, f"no node serves {key!r}"
    return node.name


def nodes_of(cluster: RedisCluster, keys: list[str]) -> set[str]:
    """The masters serving `keys`."""
    return {node_of(cluster, key) for key in keys}


async def keys_by_node(cluster: RedisCluster, prefix: str) -> dict[str, set[str]]:
    """Our keys as each master holds them, asked of each node directly (not via routing)."""
    found: dict[str, set[str]] = {}
    for node in cluster.get_primaries():
        async with Redis(host=node.host, port=int(node.port)) as direct:
            found[node.name] = {
                key.decode() async for key in direct.scan_iter(match=f"{prefix}:*", count=1000)
            }
    return found

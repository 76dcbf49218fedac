"""The event store on a real three-master Redis Cluster: the same contract, same results."""

from __future__ import annotations

from redis.asyncio.cluster import RedisCluster

from events.names import StreamNames
from events.store import EventStore
from tests.cluster.support import keys_by_node, node_of, nodes_of
from tests.events.store_contract import StoreContract, spread


class TestStoreOnCluster(StoreContract):
    """The store's contract on the cluster (tests/cluster/conftest.py)."""


async def test_the_partitions_live_on_different_nodes(
    cluster: RedisCluster, store: EventStore, names: StreamNames, prefix: str
) -> None:
    assert len(cluster.get_primaries()) == 3
    streams = names.category_streams("pings")
    owners = nodes_of(cluster, streams)
    assert len(owners) >= 2, owners
    await store.append_batch("pings", spread(names, 40))
    held = await keys_by_node(cluster, prefix)
    for stream in streams:  # each stream and its dedup index, on the node owning its slot
        (node,) = [name for name, keys in held.items() if stream in keys]
        assert node == node_of(cluster, stream)
        assert names.dedup_index(stream) in held[node]
    assert len([name for name, keys in held.items() if keys]) >= 2

"""The runtime and monitoring on a real three-master Redis Cluster."""

from __future__ import annotations

from redis.asyncio.cluster import RedisCluster

from events.names import StreamNames
from events.store import EventStore
from handlers.monitoring import list_streams, system_status
from handlers.worker import Worker
from tests.cluster.support import nodes_of
from tests.factories import ping
from tests.handlers.runtime_contract import RuntimeContract, declare, pong
from tests.handlers.support import FAST, read_all, running
from tests.polling import wait_until


class TestRuntimeOnCluster(RuntimeContract):
    """The runtime's contract on the cluster (tests/cluster/conftest.py)."""


async def counted(store: EventStore, category: str, expected: int) -> bool:
    return len(await read_all(store, category)) >= expected


async def test_system_status_covers_the_streams_of_every_node(
    store: EventStore, names: StreamNames, cluster: RedisCluster
) -> None:
    await store.append_batch("pings", [ping(n, key=f"key-{n % 11}") for n in range(40)])
    async with running(Worker(declare("ponger", pong), store, FAST)):
        await wait_until(lambda: counted(store, "pongs", 40))
    # Lag and pending for a second group: one partition read but not acknowledged.
    behind = names.stream_for_key("pings", "key-0")
    for stream in names.category_streams("pings"):
        await cluster.xgroup_create(stream, "behind", "0")
    await cluster.xreadgroup("behind", "reader", {behind: ">"}, count=2)

    expected = {
        *names.category_streams("pings"),
        *names.category_streams("pongs"),
        *names.category_streams("retry.ponger"),  # each handler's retried dead letters
    }
    assert set(await list_streams(cluster, names)) == expected
    assert len(nodes_of(cluster, sorted(expected))) >= 2
    statuses = {status.stream: status for status in await system_status(cluster, names)}
    assert set(statuses) == expected
    lengths = [await cluster.xlen(stream) for stream in names.category_streams("pings")]
    for stream, length in zip(names.category_streams("pings"), lengths, strict=True):
        status = statuses[stream]
        assert (status.category, status.length) == ("pings", length)
        groups = {group.group: group for group in status.groups}
        assert set(groups) == {"ponger", "behind"}
        ponger, lagging = groups["ponger"], groups["behind"]
        assert (ponger.lag, ponger.pending, ponger.processed) == (0, 0, length)
        read = 2 if stream == behind else 0
        assert (lagging.lag, lagging.pending) == (length - read, read)
    assert sum(status.length for status in statuses.values()) == 80
    only = await system_status(cluster, names, groups={"behind"})
    assert all([g.group for g in s.groups] == ["behind"] for s in only if s.category == "pings")

"""The event store on a real three-master Redis Cluster: same calls, same results."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster

from events.envelope import Event, RecordedEvent
from events.errors import WrongExpectedVersionError
from events.names import StreamNames
from events.store import EventStore
from tests.cluster.support import keys_by_node, node_of, nodes_of
from tests.factories import Ponged, number, ping


async def collect(iterator: AsyncIterator[RecordedEvent]) -> list[Event]:
    return [recorded.event async for recorded in iterator]


def follow_closing(
    store: EventStore, streams: Sequence[str], **options: Any
) -> aclosing[AsyncGenerator[RecordedEvent, None]]:
    """`store.follow`, closed on leaving the block: that is what stops its readers."""
    return aclosing(store.follow(streams, **options))


def spread(names: StreamNames, count: int) -> list[Event]:
    """`count` pings whose keys cover every partition."""
    events = [ping(n, key=f"key-{n % 17}") for n in range(count)]
    assert {names.tag_for_key(event.key) for event in events} == set(names.partition_tags())
    return events


# -- the cluster itself -----------------------------------------------------------------


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


# -- appending --------------------------------------------------------------------------


async def test_a_batch_across_partitions_keeps_input_order_and_drops_repeats(
    store: EventStore, names: StreamNames, cluster: RedisCluster
) -> None:
    events = spread(names, 30)
    results = await store.append_batch("pings", [*events, events[4]])
    assert {r.stream for r in results} == set(names.category_streams("pings"))
    assert [r.stream for r in results[:30]] == [
        names.stream_for_key("pings", e.key) for e in events
    ]
    assert [r.duplicate for r in results] == [False] * 30 + [True]
    assert results[-1].position == results[4].position
    again = await store.append_batch("pings", events)
    assert [r.position for r in again] == [r.position for r in results[:30]]
    assert all(r.duplicate for r in again)
    lengths = [await cluster.xlen(s) for s in names.category_streams("pings")]
    assert sum(lengths) == 30


async def test_a_retried_single_append_returns_the_original_position(
    store: EventStore, cluster: RedisCluster
) -> None:
    event = ping(1)
    first = await store.append("pings", event)
    again = await store.append("pings", event)
    assert (again.position, again.duplicate) == (first.position, True)
    assert await cluster.xlen(first.stream) == 1


async def test_bulk_loads_keep_order_per_key_and_are_idempotent(
    store: EventStore, names: StreamNames
) -> None:
    events = [ping(n, key=f"key-{n % 9}") for n in range(2000)]
    assert await store.append_many("pings", events, chunk=300) == 2000
    assert await store.append_many("pings", [*events[:700], ping(9999)], chunk=300) == 1
    read = await collect(store.read_category("pings"))
    assert len(read) == 2001
    per_key: dict[str, list[int]] = defaultdict(list)
    for event in read:
        per_key[event.key].append(number(event))
    for key, numbers in per_key.items():
        expected = [n for n in range(2000) if f"key-{n % 9}" == key]
        assert numbers == expected + ([9999] if key == "k9999" else []), key


# -- aggregate streams ------------------------------------------------------------------


async def test_expected_versions_and_a_conflict_that_writes_nothing(
    store: EventStore, names: StreamNames, cluster: RedisCluster
) -> None:
    streams = [names.stream(f"agg-{n}", "rule") for n in range(6)]
    assert len(nodes_of(cluster, streams)) >= 2
    for stream in streams:
        await store.append_to_stream(
            stream, [ping(1, version=1), ping(2, version=2)], expected_version=0
        )
        await store.append_to_stream(stream, [ping(3, version=3)], expected_version=2)
        assert await store.stream_version(stream) == 3
        with pytest.raises(WrongExpectedVersionError) as conflict:
            await store.append_to_stream(
                stream, [ping(4, version=2), ping(5, version=3)], expected_version=1
            )
        assert (conflict.value.expected, conflict.value.actual) == (1, 3)
        assert await cluster.xlen(stream) == 3
        assert await cluster.hlen(names.dedup_index(stream)) == 3


# -- reading ----------------------------------------------------------------------------


async def test_streams_and_categories_read_back_merged_in_order(
    store: EventStore, names: StreamNames
) -> None:
    for n in range(40):
        await store.append("pings", ping(n, key=f"key-{n}"))
        if n % 10 == 9:
            await asyncio.sleep(0.002)
    read = [r async for r in store.read_category("pings")]
    assert sorted(number(r.event) for r in read) == list(range(40))
    assert {r.stream for r in read} == set(names.category_streams("pings"))
    times = [r.position.ms for r in read]
    assert times == sorted(times)
    assert [number(r.event) // 10 for r in read] == sorted(number(r.event) // 10 for r in read)
    backwards = [r async for r in store.read_category("pings", reverse=True, limit=5)]
    assert {number(r.event) for r in backwards} <= set(range(30, 40))
    root = ping(100, key="same")
    await store.append_batch("pings", [root, root.caused(Ponged(n=100))])
    chain = await collect(store.read_category("pings", correlation_id=root.correlation_id))
    assert [e.type for e in chain] == ["test.ping", "test.pong"]
    one = names.stream_for_key("pings", "same")
    page = await collect(store.read_stream(one, reverse=True, limit=1))
    assert page[0].causation_id == root.event_id


async def test_follow_receives_new_events_of_every_partition(
    store: EventStore, names: StreamNames
) -> None:
    old = spread(names, 20)
    await store.append_batch("pings", old)
    streams = names.category_streams("pings")
    arrivals: asyncio.Queue[RecordedEvent] = asyncio.Queue()

    async def follow() -> None:
        async with follow_closing(store, streams, block_ms=100) as arrived:
            async for recorded in arrived:
                await arrivals.put(recorded)

    following = asyncio.create_task(follow())
    try:
        await _after_every_reader_listens(store, names, arrivals)
        received: list[RecordedEvent] = []
        new = [ping(n, key=f"key-{n % 17}") for n in range(100, 160)]
        for start in range(0, len(new), 15):
            await store.append_batch("pings", new[start : start + 15])
        deadline = time.monotonic() + 10
        while len([r for r in received if r.event.type == "test.ping"]) < len(new):
            received.append(await asyncio.wait_for(arrivals.get(), deadline - time.monotonic()))
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    pings = [r for r in received if r.event.type == "test.ping"]
    assert sorted(number(r.event) for r in pings) == list(range(100, 160))
    for stream in streams:
        numbers = [number(r.event) for r in pings if r.stream == stream]
        assert numbers == sorted(numbers)
        assert numbers, stream


async def test_follow_from_the_start_delivers_the_history_of_every_partition(
    store: EventStore, names: StreamNames
) -> None:
    history = spread(names, 40)
    await store.append_batch("pings", history)
    received: list[RecordedEvent] = []

    async def follow() -> None:
        streams = names.category_streams("pings")
        async with follow_closing(store, streams, from_start=True, block_ms=100) as arrived:
            async for recorded in arrived:
                received.append(recorded)
                if len(received) == len(history):
                    return

    await asyncio.wait_for(follow(), 5)  # closing it must not hang its readers either
    assert sorted(number(r.event) for r in received) == list(range(40))


async def test_a_blocking_read_may_outlast_the_default_socket_timeout(
    store: EventStore, names: StreamNames
) -> None:
    """Blocks as long as settings allow (up to 60 s), as on one node: redis-py's cluster
    client would otherwise time out after 5 s and retry for most of a minute."""
    stream = names.stream_for_key("pings", "late")
    arrived: list[RecordedEvent] = []

    async def follow() -> None:
        async with follow_closing(store, [stream], block_ms=6000) as reader:
            async for recorded in reader:
                arrived.append(recorded)
                return

    following = asyncio.create_task(follow())
    await asyncio.sleep(5.3)
    await store.append("pings", ping(1, key="late"))
    await asyncio.wait_for(following, 3)
    assert [number(r.event) for r in arrived] == [1]


async def _after_every_reader_listens(
    store: EventStore, names: StreamNames, arrivals: asyncio.Queue[RecordedEvent]
) -> None:
    """Append a pong to each partition until one arrives from each: all readers listen."""
    key_of = {names.tag_for_key(f"probe-{n}"): f"probe-{n}" for n in range(64)}
    heard: set[str] = set()
    deadline = time.monotonic() + 10
    while heard != set(names.category_streams("pings")):
        assert time.monotonic() < deadline, f"readers heard so far: {heard}"
        for tag, key in key_of.items():
            if names.stream(tag, "pings") not in heard:
                await store.append("pings", Event(payload=Ponged(n=0), key=key))
        try:
            while True:
                recorded = await asyncio.wait_for(arrivals.get(), 0.1)
                assert recorded.event.type == "test.pong", "an old event was delivered"
                heard.add(recorded.stream)
        except TimeoutError:
            continue

"""The consumer-group runtime and monitoring on a real three-master Redis Cluster."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from redis.asyncio.cluster import RedisCluster

from events.envelope import Event, RecordedEvent
from events.names import StreamNames
from events.redis_client import text
from events.store import EventStore
from handlers.dead_letters import EntryDeadLettered
from handlers.declaration import (
    HandlerFunction,
    HandlerRegistry,
    HandlerResult,
    HandlerSpec,
    Output,
)
from handlers.declaration import handler as declare_handler
from handlers.monitoring import list_streams, system_status
from handlers.worker import Worker
from tests.cluster.support import nodes_of
from tests.factories import Pinged, Ponged, number, ping
from tests.handlers.support import FAST, pending_count, read_all, running, wait_until


def declare(name: str, function: HandlerFunction) -> HandlerSpec:
    """Declare `function` as a handler of pings, in a registry of the test's own."""
    registry = HandlerRegistry()
    declare_handler(name, categories=["pings"], types=[Pinged], registry=registry)(function)
    return registry.get(name)


async def pong(recorded: RecordedEvent) -> HandlerResult:
    """Answer each ping with a pong (in the ping's partition, as every output goes)."""
    return [Output("pongs", recorded.event.caused(Ponged(n=number(recorded.event))))]


async def stats(store: EventStore, group: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for tag in store.names.partition_tags():
        for field, value in (await store.redis.hgetall(store.names.stats(tag, group))).items():
            totals[text(field)] += int(value)
    return dict(totals)


async def counted(store: EventStore, category: str, expected: int) -> bool:
    return len(await read_all(store, category)) >= expected


async def test_a_worker_gives_each_input_of_every_partition_one_output(
    store: EventStore, names: StreamNames, cluster: RedisCluster
) -> None:
    inputs = [ping(n, key=f"key-{n % 11}") for n in range(200)]
    results = await store.append_batch("pings", inputs)
    assert {r.stream for r in results} == set(names.category_streams("pings"))
    worker = Worker(declare("ponger", pong), store, FAST)
    async with running(worker):
        await wait_until(lambda: counted(store, "pongs", 200))
        assert worker.owned == names.partition_tags()
    outputs = [r async for r in store.read_category("pongs")]
    assert len(outputs) == 200
    by_cause = {r.event.causation_id: r for r in outputs}
    assert set(by_cause) == {event.event_id for event in inputs}
    for event in inputs:
        produced = by_cause[event.event_id]
        assert names.tag_of(produced.stream) == names.tag_for_key(event.key)
        assert produced.event.correlation_id == event.correlation_id
    assert len(nodes_of(cluster, [r.stream for r in outputs])) >= 2
    assert await pending_count(store, names, "pings", "ponger") == 0
    assert (await stats(store, "ponger"))["processed"] == 200
    assert await cluster.zcard(names.members("ponger")) == 0  # left on shutdown
    for tag in names.partition_tags():
        assert not await cluster.exists(names.lease(tag, "ponger"))


async def test_a_handler_of_two_categories_reads_both_streams_of_each_partition(
    store: EventStore, names: StreamNames
) -> None:
    """One XREADGROUP per partition names two streams: they share the partition's slot."""
    seen: list[tuple[str, int]] = []

    async def both(recorded: RecordedEvent) -> HandlerResult:
        seen.append((names.parse(recorded.stream)[1], number(recorded.event)))
        return None

    registry = HandlerRegistry()
    declare_handler("both", categories=["pings", "pongs"], registry=registry)(both)
    await store.append_batch("pings", [ping(n, key=f"key-{n}") for n in range(40)])
    await store.append_batch(
        "pongs", [Event(payload=Ponged(n=n), key=f"key-{n}") for n in range(40)]
    )
    async with running(Worker(registry.get("both"), store, FAST)):
        await wait_until(lambda: _processed(store, "both", 80))
    assert sorted(seen) == sorted((c, n) for c in ("pings", "pongs") for n in range(40))
    for category in ("pings", "pongs"):
        assert await pending_count(store, names, category, "both") == 0


async def test_a_dead_consumers_pending_entries_are_adopted(
    store: EventStore, names: StreamNames, cluster: RedisCluster
) -> None:
    await store.append_batch("pings", [ping(n, key="same") for n in range(5)])
    stream = names.stream_for_key("pings", "same")
    tag = names.tag_of(stream)
    spec = declare("reclaim", pong)
    await Worker(spec, store, FAST).ensure_groups()
    # A consumer took the partition, read everything, and died without acknowledging.
    await cluster.set(names.lease(tag, "reclaim"), "ghost", px=FAST.lease_ttl_ms)
    await cluster.xreadgroup("reclaim", "ghost", {stream: ">"})
    assert await pending_count(store, names, "pings", "reclaim") == 5
    async with running(Worker(spec, store, FAST)):
        await wait_until(lambda: counted(store, "pongs", 5))
    assert [number(e) for e in await read_all(store, "pongs")] == [0, 1, 2, 3, 4]
    assert await pending_count(store, names, "pings", "reclaim") == 0


async def test_two_workers_share_the_partitions_and_keep_order_per_key(
    store: EventStore, names: StreamNames
) -> None:
    seen: dict[str, list[int]] = defaultdict(list)

    async def record(recorded: RecordedEvent) -> HandlerResult:
        seen[recorded.event.key].append(number(recorded.event))
        await asyncio.sleep(0)
        return None

    spec = declare("recorder", record)
    async with (
        running(Worker(spec, store, FAST)) as first,
        running(Worker(spec, store, FAST)) as second,
    ):
        await wait_until(lambda: _split(first, second))
        assert sorted(first.owned + second.owned) == names.partition_tags()
        for start in range(0, 300, 20):
            await store.append_batch(
                "pings", [ping(n, key=f"key-{n % 7}") for n in range(start, start + 20)]
            )
        await wait_until(lambda: _processed(store, "recorder", 300))
    for key, numbers in seen.items():
        assert numbers == sorted(numbers), key
    assert sum(len(numbers) for numbers in seen.values()) == 300


async def _split(first: Worker, second: Worker) -> bool:
    return len(first.owned) == 2 and len(second.owned) == 2


async def _processed(store: EventStore, group: str, expected: int) -> bool:
    return (await stats(store, group)).get("processed", 0) >= expected


async def test_a_poison_event_is_dead_lettered_in_its_partition(
    store: EventStore, names: StreamNames
) -> None:
    async def picky(recorded: RecordedEvent) -> HandlerResult:
        if number(recorded.event) == 13:
            raise ValueError("13 is unlucky")
        return await pong(recorded)

    poison = ping(13, key="key-13")
    await store.append_batch("pings", [ping(n, key=f"key-{n}") for n in range(30) if n != 13])
    await store.append("pings", poison)
    async with running(Worker(declare("picky", picky), store, FAST)):
        await wait_until(lambda: counted(store, "pongs", 29))
        await wait_until(lambda: counted(store, "dead.picky", 1))
    assert sorted(number(e) for e in await read_all(store, "pongs")) == [
        n for n in range(30) if n != 13
    ]
    letters = [r async for r in store.read_category("dead.picky")]
    assert len(letters) == 1
    (letter,) = letters
    assert names.tag_of(letter.stream) == names.tag_for_key(poison.key)
    payload = letter.event.payload
    assert isinstance(payload, EntryDeadLettered)
    assert (payload.error_type, payload.error) == ("ValueError", "13 is unlucky")
    assert payload.deliveries == FAST.max_deliveries
    assert letter.event.causation_id == poison.event_id
    assert await pending_count(store, names, "pings", "picky") == 0
    assert (await stats(store, "picky"))["dead_lettered"] == 1


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

    expected = {*names.category_streams("pings"), *names.category_streams("pongs")}
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

"""Lag, pending, counters and stalls per group and partition, and their Prometheus export."""

from __future__ import annotations

import asyncio
import dataclasses

from prometheus_client import CollectorRegistry, generate_latest
from redis.asyncio import Redis

from events.envelope import RecordedEvent
from events.names import StreamNames
from events.store import EventStore
from handlers.declaration import HANDLERS, HandlerResult
from handlers.exporter import StreamsCollector
from handlers.monitoring import list_streams, stream_status, system_status
from handlers.partition import COMMIT_EVERY_S
from handlers.worker import Worker
from tests.factories import Pinged, ping
from tests.handlers.crash_handlers import copy_ping  # noqa: F401 - registers "copier"
from tests.handlers.runtime_contract import declare, stats
from tests.handlers.support import FAST, running
from tests.polling import wait_until


async def test_lag_and_pending_before_anyone_reads(
    store: EventStore, redis: Redis, names: StreamNames
) -> None:
    stream = (await store.append_batch("pings", [ping(n, key="same") for n in range(5)]))[0].stream
    await redis.xgroup_create(stream, "copier", "0")
    await redis.xreadgroup("copier", "someone", {stream: ">"}, count=2)
    status = await stream_status(redis, names, stream)
    (group,) = status.groups
    assert (status.length, group.lag, group.pending, group.consumers) == (5, 3, 2, 1)
    assert status.first is not None
    assert status.last is not None
    assert status.first < status.last


async def test_counters_after_a_worker_ran(
    store: EventStore, redis: Redis, names: StreamNames
) -> None:
    await store.append_batch("pings", [ping(n) for n in range(40)])
    async with running(Worker(HANDLERS.get("copier"), store, FAST)):
        await wait_until(lambda: _processed(store, 40))
        statuses = await system_status(redis, names, groups={"copier"})
    groups = [g for s in statuses if s.category == "pings" for g in s.groups]
    assert sum(g.processed for g in groups) == 40
    assert all(g.lag == 0 and g.pending == 0 and g.owner for g in groups)
    assert {s.category for s in statuses} == {"pings", "pongs", "retry.copier"}


async def _processed(store: EventStore, count: int) -> bool:
    statuses = await system_status(store.redis, store.names, groups={"copier"})
    return sum(g.processed for s in statuses for g in s.groups) >= count


async def test_lag_is_counted_when_redis_cannot_tell(
    store: EventStore, redis: Redis, names: StreamNames
) -> None:
    results = await store.append_batch("pings", [ping(n, key="same") for n in range(6)])
    stream = results[0].stream
    await redis.xgroup_create(stream, "copier", "0")
    await redis.xreadgroup("copier", "someone", {stream: ">"}, count=1)
    await redis.xdel(stream, str(results[3].position))  # after XDEL Redis reports lag as unknown
    (group,) = (await stream_status(redis, names, stream)).groups
    assert group.lag == 4
    assert not group.lag_is_lower_bound


async def test_only_our_streams_are_listed(
    store: EventStore, redis: Redis, names: StreamNames
) -> None:
    await store.append("pings", ping(1))
    await redis.set(f"{names.prefix}:{{p0}}:not-a-stream", "x")
    await redis.xadd(f"{names.prefix}:elsewhere", {"a": "b"})
    streams = await list_streams(redis, names)
    assert streams == [store.names.stream_for_key("pings", ping(1).key)]


async def test_prometheus_export(store: EventStore, redis: Redis, names: StreamNames) -> None:
    await store.append_batch("pings", [ping(n) for n in range(10)])
    async with running(Worker(HANDLERS.get("copier"), store, FAST)):
        await wait_until(lambda: _processed(store, 10))
    collector = StreamsCollector(stall_after_s=60)
    collector.snapshot = await system_status(redis, names, groups={"copier"})
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    assert "# TYPE impressox_group_processed_total counter" in text
    assert 'impressox_group_lag{group="copier",stream="' in text
    processed = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("impressox_group_processed_total{")
    ]
    assert sum(processed) == 10


# -- stalled partitions -------------------------------------------------------------------


async def test_work_nobody_does_is_stalled(
    store: EventStore, redis: Redis, names: StreamNames
) -> None:
    """A group with entries waiting and no worker: they wait, and the wait grows."""
    stream = (await store.append("pings", ping(1))).stream
    await redis.xgroup_create(stream, "copier", "0")

    async def stalled() -> bool:
        (group,) = (await stream_status(redis, names, stream)).groups
        return group.stalled(after_s=0.3)

    await wait_until(stalled)
    collector = StreamsCollector(stall_after_s=0.3)
    collector.snapshot = [await stream_status(redis, names, stream)]
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    assert f'impressox_group_stalled{{group="copier",stream="{stream}"}} 1.0' in text
    async with running(Worker(HANDLERS.get("copier"), store, FAST)):
        await wait_until(lambda: _processed(store, 1))
    (group,) = (await stream_status(redis, names, stream)).groups
    assert group.waiting_s is None
    assert not group.stalled(after_s=0.3)
    advanced_at = await redis.hget(names.stats(names.tag_of(stream), "copier"), "advanced_at")
    assert advanced_at is not None
    assert int(advanced_at) > 0


async def test_an_entry_holding_its_partition_stalls_it_and_others_do_not(
    store: EventStore, redis: Redis, names: StreamNames
) -> None:
    """An entry the handler does not finish holds its partition: the partition stalls,
    though it advanced a moment ago; the other partitions, done, are not."""
    gate = asyncio.Event()

    async def held(recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        if payload.n == 1:
            await gate.wait()
        return None

    spec = declare("holder", held)
    same = names.stream_for_key("pings", "same")
    other = next(k for k in "abcdefgh" if names.stream_for_key("pings", k) != same)
    results = await store.append_batch(
        "pings", [ping(0, key="same"), ping(1, key="same"), ping(2, key=other)]
    )
    config = dataclasses.replace(FAST, batch_size=1, handler_timeout_s=30)
    async with running(Worker(spec, store, config)):

        async def held_partition_stalled() -> bool:
            statuses = await system_status(redis, names, groups={"holder"})
            stalled = {
                status.stream
                for status in statuses
                for group in status.groups
                if group.stalled(after_s=0.3)
            }
            return stalled == {results[0].stream}

        await wait_until(held_partition_stalled)
        gate.set()


async def test_a_slow_batch_commits_as_it_goes(store: EventStore) -> None:
    """Entries handled one by one commit every COMMIT_EVERY_S, before the batch ends, so
    a slow batch is seen advancing (and its first outputs go out)."""
    gate = asyncio.Event()

    async def slow(recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        if payload.n == 0:
            await asyncio.sleep(COMMIT_EVERY_S)  # a handler that takes its time
        if payload.n == 2:
            await gate.wait()
        return None

    await store.append_batch("pings", [ping(n, key="same") for n in range(3)])
    async with running(Worker(declare("slow", slow), store, FAST)):

        async def first_committed() -> bool:
            return (await stats(store, "slow")).get("processed", 0) >= 1

        await wait_until(first_committed)
        gate.set()
        await wait_until(lambda: _all_processed(store))


async def _all_processed(store: EventStore) -> bool:
    return (await stats(store, "slow")).get("processed", 0) == 3

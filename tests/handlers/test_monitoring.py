"""Lag, pending and counters per group and partition, and their Prometheus export."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from redis.asyncio import Redis

from events.names import StreamNames
from events.store import EventStore
from handlers.declaration import HANDLERS
from handlers.exporter import StreamsCollector
from handlers.monitoring import list_streams, stream_status, system_status
from handlers.worker import Worker
from tests.factories import ping
from tests.handlers.crash_handlers import copy_ping  # noqa: F401 - registers "copier"
from tests.handlers.support import FAST, running, wait_until


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
    collector = StreamsCollector()
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

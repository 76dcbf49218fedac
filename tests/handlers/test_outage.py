"""The runtime through a Redis outage: a worker whose Redis is SIGKILLed and started
again waits, dead-letters nothing, loses nothing, and says so once each way.

Each test runs its own Redis (the session's is shared by every test), kills it with
SIGKILL and starts it again on the same port with its AOF, as `impressox up` does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from structlog.testing import capture_logs

from events.envelope import RecordedEvent
from events.names import StreamNames
from events.redis_client import sync_client
from events.store import EventStore
from handlers.declaration import HandlerContext, HandlerRegistry, HandlerResult, Output, handler
from handlers.worker import Worker
from impressox.connections import connect_redis
from impressox.embedded.redis import EmbeddedRedis
from impressox.workers import build_worker
from tests.factories import Pinged, Ponged, ping
from tests.handlers.runtime_contract import declare, stats
from tests.handlers.support import FAST, read_all, running
from tests.polling import wait_until
from tests.servers import kill


@pytest.fixture
async def store(private_redis: EmbeddedRedis, fresh_outages: None) -> AsyncIterator[EventStore]:
    client = await connect_redis(private_redis.url)
    yield EventStore(client, StreamNames("out", partitions=2))
    await client.aclose()


class GatedCounter:
    """A handler that counts each ping in Redis, and holds the first one at a gate.

    Its client fails at once (redis-py would retry a refused connection for ~4 s), so
    its retries are counted quickly.
    """

    def __init__(self, url: str) -> None:
        self.redis = Redis.from_url(url, retry=Retry(NoBackoff(), 0))
        self.gate = asyncio.Event()
        self.holding = asyncio.Event()
        self.calls_after_gate = 0

    async def handle(self, recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        if not self.gate.is_set():
            self.holding.set()
            await self.gate.wait()
        self.calls_after_gate += 1
        await self.redis.incr("out:counted")
        return [Output("pongs", recorded.event.caused(Ponged(n=payload.n)))]


async def test_a_handler_waits_out_a_redis_outage_without_dead_letters(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    handler = GatedCounter(private_redis.url)
    await store.append_batch("pings", [ping(n) for n in range(20)])
    with capture_logs() as logs:
        async with running(Worker(declare("counter", handler.handle), store, FAST)):
            await asyncio.wait_for(handler.holding.wait(), 20)
            kill(private_redis)
            handler.gate.set()

            async def retried_past_the_limit() -> bool:
                return handler.calls_after_gate > FAST.max_deliveries + 1

            await wait_until(retried_past_the_limit, within=15)
            private_redis.start()

            async def all_answered() -> bool:
                return len(await read_all(store, "pongs")) == 20

            await wait_until(all_answered, within=30)
    await handler.redis.aclose()
    counters = await stats(store, "counter")
    assert counters.get("dead_lettered", 0) == 0
    assert counters["processed"] == 20
    assert sorted(event.payload.n for event in await read_all(store, "pongs")) == list(range(20))  # type: ignore[attr-defined]
    assert _said(logs, "Redis unavailable; waiting for it") == 1
    assert _said(logs, "Redis is back") == 1
    assert not [line for line in logs if line["log_level"] in ("error", "critical")]


async def test_a_worker_started_while_redis_is_away_waits_for_it(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    async def pong(recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        return [Output("pongs", recorded.event.caused(Ponged(n=payload.n)))]

    kill(private_redis)
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(Worker(declare("ponger", pong), store, FAST).run(stop))

        async def noticed() -> bool:
            return _said(logs, "Redis unavailable; waiting for it") == 1

        await wait_until(noticed, within=15)
        assert not task.done()
        private_redis.start()
        await store.append_batch("pings", [ping(n) for n in range(5)])

        async def answered() -> bool:
            return len(await read_all(store, "pongs")) == 5

        await wait_until(answered, within=30)
        stop.set()
        await asyncio.wait_for(task, 30)
    assert _said(logs, "Redis is back") == 1


def _said(logs: Sequence[Mapping[str, Any]], event: str) -> int:
    return sum(1 for line in logs if line["event"] == event)


async def test_a_handler_built_while_redis_is_away_waits_for_it(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    """The agent's handler opens its applications (a synchronous Redis client) as it is
    built; a Redis restarting at that moment used to end the worker process."""
    registry = HandlerRegistry()

    @handler("builder", categories=["pings"], registry=registry)
    class NeedsRedisToBuild:
        def __init__(self, context: HandlerContext) -> None:
            self.client = sync_client(private_redis.url)

        async def handle(self, recorded: RecordedEvent) -> HandlerResult:
            return None

    kill(private_redis)
    with capture_logs() as logs:
        building = asyncio.create_task(
            build_worker(registry.get("builder"), store, lambda: HandlerContext(store), FAST)
        )

        async def waiting() -> bool:
            return _said(logs, "Redis unavailable; waiting for it") == 1

        await wait_until(waiting)
        assert not building.done()
        private_redis.start()
        worker = await asyncio.wait_for(building, 30)
    assert worker is not None
    assert isinstance(worker.handler, NeedsRedisToBuild)
    worker.handler.client.close()


PATIENT = dataclasses.replace(FAST, shutdown_timeout_s=60)
"""A shutdown timeout no test waits for: stopping within seconds is the worker's doing."""


async def test_a_worker_told_to_stop_while_building_without_redis_ends(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    """`impressox up` killed: Redis goes with it and the workers get SIGTERM; one still
    building its handler used to wait for Redis forever."""
    registry = HandlerRegistry()

    @handler("builder", categories=["pings"], registry=registry)
    class NeedsRedisToBuild:
        def __init__(self, context: HandlerContext) -> None:
            sync_client(private_redis.url).ping()

        async def handle(self, recorded: RecordedEvent) -> HandlerResult:
            return None

    kill(private_redis)
    stop = asyncio.Event()
    with capture_logs() as logs:
        building = asyncio.create_task(
            build_worker(registry.get("builder"), store, lambda: HandlerContext(store), FAST, stop)
        )

        async def waiting() -> bool:
            return _said(logs, "Redis unavailable; waiting for it") == 1

        await wait_until(waiting)
        stop.set()
        assert await asyncio.wait_for(building, 10) is None
    assert _said(logs, "stopped while waiting for Redis") == 1


async def test_a_worker_told_to_stop_while_committing_without_redis_stops_at_once(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    """A handled batch whose commit waits out an outage gives up when told to stop: its
    entries stay pending for the next owner, as after a shutdown timeout, only sooner."""
    gate = asyncio.Event()
    holding = asyncio.Event()

    async def gated_pong(recorded: RecordedEvent) -> HandlerResult:
        payload = recorded.event.payload
        assert isinstance(payload, Pinged)
        holding.set()
        await gate.wait()
        return [Output("pongs", recorded.event.caused(Ponged(n=payload.n)))]

    await store.append_batch("pings", [ping(0)])
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(Worker(declare("ponger", gated_pong), store, PATIENT).run(stop))
        await asyncio.wait_for(holding.wait(), 20)
        kill(private_redis)
        gate.set()

        async def waiting() -> bool:
            return _said(logs, "Redis unavailable; waiting for it") == 1

        await wait_until(waiting, within=15)
        stop.set()
        await asyncio.wait_for(task, 15)
    assert _said(logs, "cancelling partition after shutdown timeout") == 0
    private_redis.start()
    assert await read_all(store, "pongs") == []

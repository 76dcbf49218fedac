"""A source through a Redis outage: its appends wait for Redis and land when it is back;
the source neither dies nor loses a tick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from events.catalog import PostScraped, PriceTick
from events.names import StreamNames
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.embedded.redis import EmbeddedRedis
from sources.posts.runner import append_posts
from sources.runner import run_source
from tests.polling import wait_until
from tests.servers import kill
from tests.sources.support import stored_ticks


@pytest.fixture
async def store(private_redis: EmbeddedRedis, fresh_outages: None) -> AsyncIterator[EventStore]:
    client = await connect_redis(private_redis.url)
    yield EventStore(client, StreamNames("src", partitions=2))
    await client.aclose()


class FedSource:
    """A live source that yields the batches a test puts in its queue."""

    name = "fed"
    venue = "test"
    simulated = False
    symbols = ("BTC/USDT",)
    total = None

    def __init__(self) -> None:
        self.queue: asyncio.Queue[list[PriceTick]] = asyncio.Queue()

    async def open(self) -> None:
        """Nothing to check."""

    async def aclose(self) -> None:
        """Nothing to release."""

    async def batches(self) -> AsyncGenerator[list[PriceTick], None]:
        while True:
            yield await self.queue.get()


def tick(second: int) -> PriceTick:
    at = datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC)
    return PriceTick(symbol="BTC/USDT", venue="test", price=100.0 + second, source_time=at)


async def test_a_source_waits_for_redis_and_loses_nothing(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    source = FedSource()
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(run_source(source, store, stop=stop))
        source.queue.put_nowait([tick(0), tick(1)])

        async def stored(count: int) -> bool:
            return len(await stored_ticks(store)) == count

        await wait_until(lambda: stored(2))
        kill(private_redis)
        source.queue.put_nowait([tick(2), tick(3)])

        await wait_until(lambda: _said_unavailable(logs))
        assert not running.done(), "the source gave up while Redis was away"
        private_redis.start()
        source.queue.put_nowait([tick(4)])
        await wait_until(lambda: stored(5))
        stop.set()
        status = await asyncio.wait_for(running, 20)
    assert status.ticks == status.new == 5
    assert [t.price for t in await stored_ticks(store)] == [100.0 + n for n in range(5)]


async def test_posts_wait_for_redis_too(private_redis: EmbeddedRedis, store: EventStore) -> None:
    post = PostScraped(
        source="test",
        post_id="1",
        author="someone",
        text="SOL is moving",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    kill(private_redis)
    with capture_logs() as logs:
        appending = asyncio.create_task(append_posts(store, [post]))
        await wait_until(lambda: _said_unavailable(logs))
        assert not appending.done(), "the append gave up while Redis was away"
        private_redis.start()
        assert await asyncio.wait_for(appending, 30) == 1


async def _said_unavailable(logs: Sequence[Mapping[str, Any]]) -> bool:
    return any(line["event"] == "Redis unavailable; waiting for it" for line in logs)


async def test_a_source_stopped_while_redis_is_away_stops(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    """The supervisor stops everything when Redis cannot come back: a source waiting
    for it must not hold the shutdown up."""
    source = FedSource()
    stop = asyncio.Event()
    with capture_logs() as logs:
        running = asyncio.create_task(run_source(source, store, stop=stop))
        source.queue.put_nowait([tick(0)])

        async def stored() -> bool:
            return len(await stored_ticks(store)) == 1

        await wait_until(stored)
        kill(private_redis)
        source.queue.put_nowait([tick(1)])
        await wait_until(lambda: _said_unavailable(logs))
        stop.set()
        status = await asyncio.wait_for(running, 20)
    assert status.ticks == 1  # the second is left for the next run, which writes it

"""The notify releaser through a Redis outage: it keeps trying, says so once, not once
a round, and says when Redis is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from events.names import StreamNames
from events.store import EventStore
from impressox.connections import connect_redis
from impressox.embedded.redis import EmbeddedRedis
from notify.holds import Holds
from notify.keys import NotifyKeys
from tests.polling import wait_until
from tests.servers import kill


@pytest.fixture
async def store(private_redis: EmbeddedRedis, fresh_outages: None) -> AsyncIterator[EventStore]:
    client = await connect_redis(private_redis.url)
    yield EventStore(client, StreamNames("held", partitions=2))
    await client.aclose()


async def test_the_releaser_says_once_that_redis_is_away(
    private_redis: EmbeddedRedis, store: EventStore
) -> None:
    holds = Holds(store.redis, NotifyKeys(store.names), store.names)
    rounds = 0

    def clock() -> datetime:
        nonlocal rounds
        rounds += 1
        return datetime.now(UTC)

    with capture_logs() as logs:
        releasing = asyncio.create_task(holds.release_forever(clock, interval_s=0.01))
        kill(private_redis)
        seen = rounds

        async def several_rounds_failed() -> bool:
            return rounds >= seen + 5

        await wait_until(several_rounds_failed, within=60)
        private_redis.start()

        async def back() -> bool:
            return any(line["event"] == "Redis is back" for line in logs)

        await wait_until(back, within=30)
        releasing.cancel()
        await asyncio.gather(releasing, return_exceptions=True)
    warnings = [line["event"] for line in logs if line["log_level"] == "warning"]
    assert warnings == ["Redis unavailable; waiting for it"]

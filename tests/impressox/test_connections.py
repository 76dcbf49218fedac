"""Connecting to Redis: a one-off command fails at once, a long-running process waits."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from events.errors import InfrastructureError
from impressox.connections import connect_redis
from impressox.embedded.redis import EmbeddedRedis
from tests.polling import wait_until
from tests.servers import kill


async def test_a_one_off_command_fails_at_once_when_redis_is_away(
    private_redis: EmbeddedRedis,
) -> None:
    kill(private_redis)
    with pytest.raises(InfrastructureError, match=r"cannot reach Redis at redis://127\.0\.0\.1"):
        await connect_redis(private_redis.url)


async def test_a_long_running_process_waits_for_redis(
    private_redis: EmbeddedRedis, fresh_outages: None
) -> None:
    kill(private_redis)
    with capture_logs() as logs:
        connecting = asyncio.create_task(connect_redis(private_redis.url, wait=True))

        async def waiting() -> bool:
            return any(line["event"] == "Redis unavailable; waiting for it" for line in logs)

        await wait_until(waiting)
        assert not connecting.done()
        private_redis.start()
        client = await asyncio.wait_for(connecting, 30)
    assert await client.ping()
    await client.aclose()

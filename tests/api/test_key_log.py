"""The key table folded from the users' log: by several API processes at once, in order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from aggregates.services.bundle import Services
from api.key_log import KeyLog
from api.key_table import KeyChange, KeyRecord, KeyTable
from events.names import StreamNames
from events.position import Position
from impressox.connections import connect_redis
from impressox.settings import Settings
from tests.handlers.support import wait_until
from tests.readside import isolated_settings


@pytest.fixture
def settings(prefix: str, tmp_path: Path) -> Settings:
    return isolated_settings(prefix, tmp_path)


async def key_log(redis_url: str, table: KeyTable, revoked: list[str]) -> KeyLog:
    log = KeyLog(await connect_redis(redis_url), table, block_ms=50)
    log.on_revoked(revoked.append)
    await log.start()
    return log


async def test_processes_folding_at_once_agree_and_hear_every_revocation(
    redis: Redis, redis_url: str, names: StreamNames, services: Services
) -> None:
    users = services.users
    user_id = await asyncio.to_thread(users.register, "Ada")
    kept = await asyncio.to_thread(users.issue_api_key, user_id, {"name": "kept"})
    gone = await asyncio.to_thread(users.issue_api_key, user_id, {"name": "gone"})
    await asyncio.to_thread(users.revoke_api_key, user_id, gone.key_id)

    table = KeyTable(redis, names)
    heard: tuple[list[str], list[str]] = ([], [])
    logs = await asyncio.gather(*(key_log(redis_url, table, revoked) for revoked in heard))
    try:
        assert await table.get(gone.key_id) is None
        record = await table.get(kept.key_id)
        assert record is not None
        assert (record.user_id, record.scopes) == (user_id, frozenset({"user"}))
        assert heard == ([gone.key_id], [gone.key_id])

        later = await asyncio.to_thread(users.issue_api_key, user_id, {"name": "later"})
        await asyncio.to_thread(users.revoke_api_key, user_id, kept.key_id)

        async def both_heard() -> bool:
            return all(kept.key_id in revoked for revoked in heard)

        await wait_until(both_heard)
        assert await table.get(kept.key_id) is None
        assert await table.get(later.key_id) is not None
    finally:
        for log in logs:
            await log.close()


async def test_a_late_process_starts_where_the_table_is(
    redis: Redis, redis_url: str, names: StreamNames, services: Services
) -> None:
    users = services.users
    user_id = await asyncio.to_thread(users.register, "Ada")
    gone = await asyncio.to_thread(users.issue_api_key, user_id, {"name": "gone"})
    await asyncio.to_thread(users.revoke_api_key, user_id, gone.key_id)
    table = KeyTable(redis, names)
    first = await key_log(redis_url, table, [])
    await first.close()
    folded = await table.position()
    assert folded > Position(0, 0)

    heard: list[str] = []
    late = await key_log(redis_url, table, heard)
    await late.close()
    assert heard == []  # it read nothing the table had already applied
    assert await table.position() == folded


async def test_an_old_change_never_undoes_a_later_one(redis: Redis, names: StreamNames) -> None:
    """A process that fell behind applies what it read late: the table skips it."""
    table = KeyTable(redis, names)
    issued = KeyRecord("0123456789abcdef", uuid4(), frozenset({"user"}), "hash")
    issue = KeyChange(Position(1000, 1), issued.key_id, issued)
    revoke = KeyChange(Position(1000, 2), issued.key_id, None)
    assert await table.apply([issue, revoke], Position(1000, 2)) == Position(1000, 2)
    assert await table.apply([issue], Position(1000, 1)) == Position(1000, 2)
    assert await table.get(issued.key_id) is None

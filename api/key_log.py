"""Following the users' log in every API process: the key table, and revocations at once.

Each API process reads the users' log with a blocking XREAD from where the key table
stands, applies every key issued or revoked to the table (`api.key_table`), and tells
its listeners of each revocation as it reads it: the authenticator forgets the key and
the live sessions on it are closed. So a revocation bites in every API process within
moments of its event, whichever process (or the CLI) made it, and keeps biting while
MongoDB is down: none of this reads MongoDB.

Startup reads the log from the table's position until it is caught up, so a process
never authenticates against a table that is behind what it has seen. Redis going away
pauses the fold; it resumes from the last position read, losing nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from uuid import UUID

import structlog
from redis.exceptions import RedisError

from api.key_table import KeyChange, KeyRecord, KeyTable
from events.codec import TYPE, decode
from events.position import Position
from events.redis_client import Entry, RedisClient, stream_replies
from events.registry import REGISTRY, PayloadRegistry

log = structlog.get_logger(__name__)

ISSUED = b"user.api_key_issued"
REVOKED = b"user.api_key_revoked"
READ_COUNT = 500
RETRY_S = 1.0
"""How long the fold waits after a failure before reading again from where it was."""

RevocationListener = Callable[[str], None]
"""Called with a revoked key's id, on the event loop, without awaiting anything."""


class KeyLog:
    """Folds the users' log into the key table and reports revocations as they come."""

    def __init__(
        self,
        redis: RedisClient,
        table: KeyTable,
        *,
        block_ms: int,
        registry: PayloadRegistry = REGISTRY,
    ) -> None:
        self._redis = redis
        self._table = table
        self._block_ms = block_ms
        self._registry = registry
        self._listeners: list[RevocationListener] = []
        self._last = Position(0, 0)
        self._task: asyncio.Task[None] | None = None

    def on_revoked(self, listener: RevocationListener) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        """Catch up with the log (from the table's position), then follow it."""
        self._last = await self._table.position()
        while await self._read(block=False) == READ_COUNT:
            pass
        self._task = asyncio.create_task(self._follow(), name="api key log")

    async def close(self) -> None:
        """Stop following and close the Redis client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    async def _follow(self) -> None:
        while True:
            try:
                await self._read(block=True)
            except RedisError as error:
                log.warning("api key log: cannot read; retrying", error=str(error))
                await asyncio.sleep(RETRY_S)
            except Exception:  # a fold that died would let revoked keys in
                log.exception("api key log failed; retrying")
                await asyncio.sleep(RETRY_S)

    async def _read(self, *, block: bool) -> int:
        """Read and apply one batch after `_last`; how many entries it held."""
        reply = await self._redis.xread(
            {self._table.log: str(self._last)},
            count=READ_COUNT,
            block=self._block_ms if block else None,
        )
        arrived = [entry for _, batch in stream_replies(reply) for entry in batch]
        if not arrived:
            return 0
        through = Position.parse(arrived[-1][0])
        changes = [change for entry in arrived if (change := self._change(entry)) is not None]
        await self._table.apply(changes, through)
        self._last = through
        for change in changes:
            if change.record is None:
                for listener in self._listeners:
                    listener(change.key_id)
        return len(arrived)

    def _change(self, entry: Entry) -> KeyChange | None:
        """The key change an entry of the log records, if it records one."""
        entry_id, fields = entry
        kind = fields.get(TYPE)
        if kind not in (ISSUED, REVOKED):
            return None
        data = decode(fields, self._registry).payload.model_dump()
        position = Position.parse(entry_id)
        if kind == REVOKED:
            return KeyChange(position, data["key_id"], None)
        record = data["record"]
        issued = KeyRecord(
            key_id=record["key_id"],
            user_id=UUID(str(data["originator_id"])),
            scopes=frozenset(record["scopes"]),
            key_hash=record["key_hash"],
        )
        return KeyChange(position, issued.key_id, issued)

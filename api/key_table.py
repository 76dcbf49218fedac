"""The API keys the API authenticates against: a Redis hash, folded from the users' log.

Authentication must not need MongoDB: ingest writes only to Redis, and with MongoDB down
it used to fail at the key lookup (issue 13). So the API keeps what authenticating
needs (each key's SHA-256, owner and scopes; never a key) in Redis, beside the users'
log it is folded from (`api.key_log`): an issued key is added, a revoked one removed.
The table records the log position it has applied, so any API process can continue
the fold where the last one left it, and a change is applied once and in order however
many processes fold at once (`scripts/api_keys.lua`).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import orjson

from events.lua import register
from events.names import StreamNames
from events.position import Position
from events.redis_client import RedisClient

USERS_TAG = StreamNames.application_tag("users")
POSITION_FIELD = "@position"


@dataclass(frozen=True)
class KeyRecord:
    """An active API key as the table holds it."""

    key_id: str
    user_id: UUID
    scopes: frozenset[str]
    key_hash: str

    def encoded(self) -> bytes:
        return orjson.dumps(
            {"user_id": str(self.user_id), "scopes": sorted(self.scopes), "hash": self.key_hash}
        )

    @classmethod
    def decoded(cls, key_id: str, raw: bytes | str) -> KeyRecord:
        data = orjson.loads(raw)
        return cls(key_id, UUID(data["user_id"]), frozenset(data["scopes"]), data["hash"])


@dataclass(frozen=True)
class KeyChange:
    """One change the log made to the table: `record` issued, or `key_id` revoked."""

    position: Position
    key_id: str
    record: KeyRecord | None
    """None: revoked."""


class KeyTable:
    """The active API keys by key id, and the users' log position they reflect."""

    def __init__(self, redis: RedisClient, names: StreamNames) -> None:
        self.redis = redis
        self.key = names.api_keys(USERS_TAG)
        self.log = names.notification_log(USERS_TAG)
        self._apply = register(redis, "api", "api_keys")

    async def get(self, key_id: str) -> KeyRecord | None:
        """The active key `key_id`, or None (unknown, or revoked)."""
        raw = await self.redis.hget(self.key, key_id)
        return None if raw is None else KeyRecord.decoded(key_id, raw)

    async def position(self) -> Position:
        """How far into the users' log the table is (0-0 before the first fold)."""
        raw = await self.redis.hget(self.key, POSITION_FIELD)
        return Position(0, 0) if raw is None else Position.parse(raw)

    async def apply(self, changes: list[KeyChange], through: Position) -> Position:
        """Apply the changes read up to `through` that the table has not; its position after."""
        arguments: list[str | bytes] = [str(through)]
        for change in changes:
            record = b"" if change.record is None else change.record.encoded()
            arguments += [str(change.position), change.key_id, record]
        return Position.parse(await self._apply(keys=[self.key], args=arguments))

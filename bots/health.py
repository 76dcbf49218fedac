"""A running bot's health, as data: connected, last event, messages in and out, errors.

Each bot counts in memory and publishes its figures every `PUBLISH_EVERY_S` to a Redis
hash that expires after `STALE_AFTER_S` (``ix:bots:health:<platform>``), so a bot that
died stops being reported as connected within that time instead of being silently
absent. ``impressox events info`` prints the hashes (``--json``: `health_json`), and
``/readyz`` fails while a bot that reports is not connected (the key is named in
`events.names`, so the API reads it without importing the bots).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from events.names import StreamNames
from events.redis_client import RedisClient

log = structlog.get_logger(__name__)

PLATFORMS = ("telegram", "discord")
PUBLISH_EVERY_S = 5.0
STALE_AFTER_S = 30


@dataclass
class BotHealth:
    platform: str
    connected: bool = False
    last_event_at: datetime | None = None
    messages_in: int = 0
    """Messages and commands received (duplicates included)."""
    recorded: int = 0
    """Messages recorded as new conversation turns."""
    messages_out: int = 0
    """Messages the bot itself sent (answers to commands, hints); replies go through
    notify and are counted there."""
    errors: int = 0
    _since: datetime = field(default_factory=lambda: datetime.now(UTC))

    def received(self) -> None:
        self.messages_in += 1
        self.last_event_at = datetime.now(UTC)

    def fields(self) -> dict[str, str]:
        return {
            "connected": "1" if self.connected else "0",
            "last_event_at": self.last_event_at.isoformat() if self.last_event_at else "",
            "messages_in": str(self.messages_in),
            "recorded": str(self.recorded),
            "messages_out": str(self.messages_out),
            "errors": str(self.errors),
            "running_since": self._since.isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
        }


class HealthPublisher:
    """Publishes a bot's health until stopped (the last figures, disconnected, at the end)."""

    def __init__(self, redis: RedisClient, names: StreamNames, health: BotHealth) -> None:
        self._redis = redis
        self._key = names.bot_health(health.platform)
        self.health = health

    async def publish(self) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(self._key, mapping=self.health.fields())  # type: ignore[arg-type]
                pipe.expire(self._key, STALE_AFTER_S)
                await pipe.execute()
        except Exception as error:  # health must never take the bot down
            log.warning("cannot publish the bot's health", error=str(error))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.publish()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PUBLISH_EVERY_S)
        self.health.connected = False
        await self.publish()


async def read_health(redis: RedisClient, names: StreamNames) -> dict[str, dict[str, str]]:
    """Every bot that reported within `STALE_AFTER_S`, by platform."""
    found: dict[str, dict[str, str]] = {}
    for platform in PLATFORMS:
        raw = await redis.hgetall(names.bot_health(platform))
        if raw:
            found[platform] = {_text(k): _text(v) for k, v in raw.items()}
    return found


COUNTS = ("messages_in", "recorded", "messages_out", "errors")


def health_json(fields: dict[str, str]) -> dict[str, object]:
    """A bot's published fields (all strings in the hash) as JSON types: `connected` a
    boolean, the counts integers, the times ISO strings or None."""
    typed: dict[str, object] = {"connected": fields.get("connected") == "1"}
    for name in COUNTS:
        typed[name] = int(fields.get(name) or 0)
    for name in ("last_event_at", "running_since", "updated_at"):
        typed[name] = fields.get(name) or None
    return typed


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

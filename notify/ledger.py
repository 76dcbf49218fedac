"""What was already done for an alert: the idempotency record of each (alert, channel).

Delivery is at-least-once (the runtime may hand an alert over again after a crash, a
timeout or an operator's retry); the ledger is what makes a message go out once anyway.
Before sending to a channel, the notifier looks, in order:

1. in the ledger (a hash per alert, field = channel id) for the outcome event written
   right after the channel answered: if found, that event is emitted again (same id, so
   the store keeps it once) and nothing is sent;
2. in the notifications stream's id index for the outcome's event id (UUID5 of alert
   event id and channel id): found means the outcome was committed, even after the
   ledger entry expired.

The remaining window: a crash after the channel accepted the message and before the
ledger write (one Redis round trip later) sends it again on redelivery. Webhook
receivers can close that window themselves with the ``X-Impressox-Delivery`` header.

Give-ups are recorded per try (field ``<channel>@<entry position>``), so the runtime's
own re-attempts of a failing alert do not start the channel's retries over, while an
operator's retry (a new entry in the retry stream) does.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

import orjson

from events.catalog import NotificationSent
from events.codec import FIELDS, decode, encode
from events.envelope import Event, RecordedEvent
from events.names import StreamNames
from events.redis_client import RedisClient
from events.registry import REGISTRY
from notify.keys import NotifyKeys

LEDGER_TTL_S = 7 * 24 * 3600
"""How long an alert's ledger is kept: past it, the committed events answer instead."""

_NAMESPACE = uuid5(NAMESPACE_URL, "impressox:notification")


def delivery_id(alert_event_id: UUID, channel_id: str) -> UUID:
    """The idempotency key of delivering one alert to one channel (its outcome's event id)."""
    return uuid5(_NAMESPACE, f"{alert_event_id}/{channel_id}")


def give_up_id(alert_event_id: UUID, channel_id: str, recorded: RecordedEvent) -> UUID:
    """The event id of giving up on a channel during one try of the alert."""
    return uuid5(_NAMESPACE, f"{alert_event_id}/{channel_id}/{recorded.stream}/{recorded.position}")


def give_up_field(channel_id: str, recorded: RecordedEvent) -> str:
    return f"{channel_id}@{recorded.stream}/{recorded.position}"


class Ledger:
    def __init__(self, redis: RedisClient, keys: NotifyKeys, names: StreamNames) -> None:
        self._redis = redis
        self._keys = keys
        self._names = names

    async def outcome(self, tag: str, alert_event_id: UUID, field: str) -> Event | None:
        """The outcome event recorded under `field`, if any."""
        raw = await self._redis.hget(self._keys.ledger(tag, alert_event_id), field)
        if raw is None:
            return None
        values = orjson.loads(raw)
        return decode({name.encode(): value.encode() for name, value in values.items()}, REGISTRY)

    async def record(self, tag: str, alert_event_id: UUID, field: str, event: Event) -> None:
        """Record an outcome as soon as the channel answered (before the commit)."""
        key = self._keys.ledger(tag, alert_event_id)
        values = {
            name: value.decode() if isinstance(value, bytes) else value
            for name, value in zip(FIELDS, encode(event), strict=True)
        }
        async with self._redis.pipeline(transaction=False) as pipe:  # one key: no slot issue
            pipe.hset(key, field, orjson.dumps(values))
            pipe.expire(key, LEDGER_TTL_S)
            await pipe.execute()

    async def committed(self, tag: str, event_id: UUID) -> bool:
        """Whether an event with this id is in the partition's notifications stream."""
        stream = self._names.stream(tag, NotificationSent.category)
        return bool(await self._redis.hexists(StreamNames.dedup_index(stream), str(event_id)))

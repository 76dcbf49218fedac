"""Dead letters: entries a handler gave up on, kept with the reason, never dropped.

A dead letter is an ordinary event (type ``handler.dead_lettered``) in the stream
``<prefix>:{<partition>}:dead.<handler>``, caused by the entry it holds, so reading a
correlation id's history shows where its chain stopped and why.
"""

from __future__ import annotations

from uuid import UUID

from events.codec import CORRELATION_ID, EVENT_ID, KEY
from events.envelope import Event, Payload
from events.position import Position
from events.registry import event_type

MAX_ERROR_CHARS = 4000


@event_type("handler.dead_lettered")
class EntryDeadLettered(Payload):
    """Why handler `handler` stopped trying the entry at `stream`/`position`."""

    handler: str
    stream: str
    position: str
    error_type: str
    error: str
    deliveries: int
    entry: dict[str, str]
    """The entry's fields as stored (decoded as text), even when it would not decode."""


def dead_letter(
    *,
    handler: str,
    stream: str,
    position: Position,
    fields: dict[bytes, bytes],
    error_type: str,
    error: str,
    deliveries: int,
) -> Event:
    """The dead-letter event of one entry, caused by it and sharing its correlation."""
    entry = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
    cause = _uuid_or_none(fields.get(EVENT_ID))
    correlation = _uuid_or_none(fields.get(CORRELATION_ID))
    return Event(
        payload=EntryDeadLettered(
            handler=handler,
            stream=stream,
            position=str(position),
            error_type=error_type,
            error=error[:MAX_ERROR_CHARS],
            deliveries=deliveries,
            entry=entry,
        ),
        key=(fields.get(KEY) or b"dead-letter").decode(errors="replace") or "dead-letter",
        causation_id=cause,
        correlation_id=correlation,
    )


def _uuid_or_none(raw: bytes | None) -> UUID | None:
    """The id when it is a well-formed UUID (a poison entry may hold anything)."""
    if not raw:
        return None
    try:
        return UUID(raw.decode(errors="replace"))
    except ValueError:
        return None

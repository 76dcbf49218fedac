"""The library's stored events as entries in our common envelope, and back.

An entry's `type` is the stored event's topic, its `key` the originator id, its
`version` the originator version and its `payload` the stored state, exactly as the
library's mapper produced it (JSON for our domain; compressed or encrypted bytes if the
application is configured so). The event id is derived from the application, the kind
of stream and the originator and version, so the same event always has the same id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import StoredEvent

from events.causation import current_cause
from events.codec import FIELDS, KEY, PAYLOAD, SCHEMA_VERSION, TYPE, VERSION
from events.position import Position
from events.stored_events import EnvelopeNotification, EnvelopeStoredEvent

_NAMESPACE = uuid5(NAMESPACE_URL, "https://impressox.dev/eventsourcing")


def entry_values(events: list[StoredEvent], *, tag: str, kind: str) -> list[list[str | bytes]]:
    """The FIELDS values of each event; a batch shares one cause (or the first event)."""
    now = datetime.now(UTC)
    ids = [_event_id(tag, kind, event) for event in events]
    cause = current_cause()
    causation = str(cause.causation_id) if cause else ""
    correlation = str(cause.correlation_id) if cause else (str(ids[0]) if ids else "")
    rows = []
    for event, event_id in zip(events, ids, strict=True):
        values: dict[str, str | bytes] = {
            "event_id": str(event_id),
            "type": event.topic,
            "schema_version": str(getattr(event, "schema_version", 1)),
            "key": str(event.originator_id),
            "version": str(event.originator_version),
            "occurred_at": (getattr(event, "occurred_at", None) or now).isoformat(),
            "causation_id": causation,
            "correlation_id": correlation,
            "payload": event.state,
        }
        rows.append([values[field] for field in FIELDS])
    return rows


def _event_id(tag: str, kind: str, event: StoredEvent) -> UUID:
    return uuid5(_NAMESPACE, f"{tag}/{kind}/{event.originator_id}/{event.originator_version}")


def stored_event(fields: dict[bytes, bytes]) -> EnvelopeStoredEvent:
    """The stored event an aggregate stream entry holds."""
    return EnvelopeStoredEvent(
        originator_id=originator_id(fields[KEY].decode()),
        originator_version=int(fields[VERSION]),
        topic=fields[TYPE].decode(),
        state=fields[PAYLOAD],
        schema_version=int(fields[SCHEMA_VERSION]),
    )


def notification(entry_id: bytes, fields: dict[bytes, bytes]) -> EnvelopeNotification:
    """The notification a log entry holds: its id is the position's second half."""
    return EnvelopeNotification(
        id=Position.parse(entry_id).seq,
        originator_id=originator_id(fields[KEY].decode()),
        originator_version=int(fields[VERSION]),
        topic=fields[TYPE].decode(),
        state=fields[PAYLOAD],
        schema_version=int(fields[SCHEMA_VERSION]),
    )


def originator_id(text: str) -> UUID | str:
    """A UUID when the key spells one (as the library's aggregates use), else the text."""
    if len(text) == 36:
        try:
            return UUID(text)
        except ValueError:
            pass
    return text

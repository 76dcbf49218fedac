"""The library's stored events, carrying the schema version our envelope records.

The `eventsourcing` library's `StoredEvent` has a topic and a state but no schema
version; our entries have one, and the mapper needs it to upcast an old payload. These
subclasses carry it from the recorder to the mapper, and compare equal to the library's
own records with the same fields (one without a version is at version 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventsourcing.persistence import Notification, StoredEvent


class _ComparedAsStored:
    """Equal to any stored event with the same fields (a plain one is at version 1)."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(self, StoredEvent) or not isinstance(other, StoredEvent):
            return NotImplemented
        return (
            self.originator_id == other.originator_id
            and self.originator_version == other.originator_version
            and self.topic == other.topic
            and self.state == other.state
            and getattr(self, "id", None) == getattr(other, "id", None)
            and getattr(self, "schema_version", 1) == getattr(other, "schema_version", 1)
        )

    __hash__ = object.__hash__  # replaced by each class's own (the dataclass's)


@dataclass(frozen=True, eq=False)
class EnvelopeStoredEvent(_ComparedAsStored, StoredEvent):
    """A stored event that also knows the schema version its state was written at, and
    (from the mapper) when the event happened."""

    schema_version: int = 1
    occurred_at: datetime | None = None

    __hash__ = StoredEvent.__hash__


@dataclass(frozen=True, eq=False)
class EnvelopeNotification(_ComparedAsStored, Notification):
    """A notification that also knows the schema version its state was written at."""

    schema_version: int = 1

    __hash__ = Notification.__hash__

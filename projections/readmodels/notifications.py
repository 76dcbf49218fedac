"""What delivery did: each notification sent or given up on, one document per event."""

from __future__ import annotations

from typing import ClassVar

from pymongo import IndexModel

from events.catalog import NotificationFailed, NotificationSent
from events.envelope import RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.indexes import paging_index
from projections.registry import read_model


@read_model()
class Notifications(Projection):
    name: ClassVar[str] = "notifications"
    categories: ClassVar[tuple[str, ...]] = ("notifications",)
    types: ClassVar[frozenset[str] | None] = frozenset(
        {NotificationSent.event_type, NotificationFailed.event_type}
    )
    insert_only: ClassVar[bool] = True
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("at", "user_id"),
        paging_index("at", "user_id", "channel_id"),
        paging_index("at", "user_id", "status"),
        paging_index("at", "user_id", "subject_event_id"),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        return (str(recorded.event.event_id),)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        delivery = recorded.event.payload
        if not isinstance(delivery, NotificationSent | NotificationFailed):
            raise TypeError(f"expected a notification, got {recorded.event.type}")
        return {
            "user_id": str(delivery.user_id),
            "channel_id": delivery.channel_id,
            "channel_kind": delivery.channel_kind,
            "status": "sent" if isinstance(delivery, NotificationSent) else "failed",
            "title": delivery.title,
            "text": delivery.text,
            "response": delivery.response if isinstance(delivery, NotificationSent) else None,
            "error": delivery.error if isinstance(delivery, NotificationFailed) else None,
            "attempts": delivery.attempts,
            "at": delivery.at,
            "subject_event_id": str(delivery.subject_event_id),
        }

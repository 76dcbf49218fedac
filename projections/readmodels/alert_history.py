"""Every alert that fired, for "what alerted me this week": one document per event.

Alerts never change once fired, so the projection inserts and never reads first.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import IndexModel

from events.catalog import AlertTriggered
from events.envelope import RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.free_form import to_text
from projections.readmodels.indexes import paging_index
from projections.registry import read_model


@read_model()
class AlertHistory(Projection):
    name: ClassVar[str] = "alert_history"
    categories: ClassVar[tuple[str, ...]] = ("alerts",)
    types: ClassVar[frozenset[str] | None] = frozenset({AlertTriggered.event_type})
    insert_only: ClassVar[bool] = True
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("triggered_at", "user_id"),
        paging_index("triggered_at", "user_id", "rule_id"),
        paging_index("triggered_at", "user_id", "subject"),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        return (str(recorded.event.event_id),)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        alert = recorded.event.payload
        if not isinstance(alert, AlertTriggered):
            raise TypeError(f"expected an alert.triggered, got {recorded.event.type}")
        return alert_document(alert, recorded)


def alert_document(alert: AlertTriggered, recorded: RecordedEvent) -> Document:
    """An alert as the history stores it (and the recent-alerts page embeds it)."""
    return {
        "rule_id": str(alert.rule_id),
        "user_id": str(alert.user_id),
        "subject": alert.subject,
        "condition": alert.condition,
        "severity": alert.severity,
        "message": alert.message,
        "values_json": to_text(alert.values),
        "trigger_event_id": str(alert.trigger_event_id),
        "triggered_at": alert.triggered_at,
        "correlation_id": str(recorded.event.correlation_id),
    }

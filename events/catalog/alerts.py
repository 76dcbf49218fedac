"""Alerts: a rule fired on an event (a tick, a post, a chain event)."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from events.catalog.common import CatalogPayload, Severity
from events.registry import event_type


@event_type("alert.triggered")
class AlertTriggered(CatalogPayload):
    """Rule `rule_id` of `user_id` fired. Keyed like the event that caused it (by its
    subject: a symbol; or by `trigger_key` when the subject routes elsewhere, as a post
    rule's keyword does), so the alert lands in that event's partition."""

    category: ClassVar[str] = "alerts"

    rule_id: UUID
    user_id: UUID
    subject: str = Field(min_length=1, max_length=256, description="e.g. BTC/USDT")
    condition: str = Field(description="The condition's kind, e.g. crosses_up")
    severity: Severity = "warning"
    message: str = Field(max_length=4000, description="Rendered for people")
    values: dict[str, Any] = Field(default_factory=dict, description="What was compared")
    trigger_event_id: UUID
    trigger_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="The key of the triggering event when it is not the subject, e.g. a"
        " post's source:author",
    )
    triggered_at: AwareDatetime
    channels: tuple[str, ...] = ()
    """Channel ids of the rule's owner to deliver to (empty: all of them)."""

    def partition_key(self) -> str:
        return self.trigger_key or self.subject

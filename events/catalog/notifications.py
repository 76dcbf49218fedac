"""Notifications: what delivery to a channel did, with the channel's answer."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from events.catalog.common import CatalogPayload
from events.registry import event_type


class _Delivery(CatalogPayload):
    category: ClassVar[str] = "notifications"

    user_id: UUID
    channel_id: str = Field(min_length=1, max_length=64)
    channel_kind: str = Field(min_length=1, max_length=32)
    subject_event_id: UUID = Field(description="The alert or reply that was delivered")
    title: str = Field(default="", max_length=256)
    text: str = Field(default="", max_length=4000)
    attempts: int = Field(default=1, ge=1)
    at: AwareDatetime

    def partition_key(self) -> str:
        return str(self.user_id)


@event_type("notification.sent")
class NotificationSent(_Delivery):
    """The channel accepted the message."""

    response: str = Field(default="", max_length=2000, description="e.g. HTTP 200, message id")


@event_type("notification.failed")
class NotificationFailed(_Delivery):
    """Delivery was given up on (after retries), or refused for good."""

    error: str = Field(max_length=2000)

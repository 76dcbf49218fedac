"""Notifications: what delivery to a channel did, with the channel's answer.

The notify handler gives the outcome of delivering one alert to one channel a stable
event id (a UUID5 of the alert's event id and the channel id), so the outcome is
recorded once however often the alert is redelivered. A `NotificationFailed` with
`dead_lettered` set is the exception: one per try, each with its own id, since an
operator may retry the alert and the channel may then succeed.
"""

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
    status_code: int | None = Field(
        default=None, ge=100, le=599, description="The channel's HTTP status, when it answered"
    )

    def partition_key(self) -> str:
        return str(self.user_id)


@event_type("notification.sent")
class NotificationSent(_Delivery):
    """The channel accepted the message."""

    response: str = Field(default="", max_length=2000, description="e.g. HTTP 200, message id")
    message_id: str | None = Field(
        default=None, max_length=64, description="The message's id on the channel, if it has one"
    )


@event_type("notification.failed")
class NotificationFailed(_Delivery):
    """Delivery was given up on (after retries), or refused for good."""

    error: str = Field(max_length=2000)
    dead_lettered: bool = Field(
        default=False,
        description="Retries ran out (or the channel kind is not set up): the alert went to"
        " the notify handler's dead letters, and retrying it there tries this channel again",
    )

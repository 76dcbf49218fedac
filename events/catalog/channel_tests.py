"""Channel tests: a user asked for a test message on one of their channels.

The web page's *Send a test* (``POST /v1/channels/{channel_id}/test``) appends one; the
notify handler delivers it to that channel only, through the same senders, rate limit
and retries as an alert, and records the outcome as ``notification.sent`` or
``notification.failed`` with the request as its subject. It is not an alert: nothing
reads it but the notify handler (alert history, rule firings and the alerts topic never
see it), so it has a category of its own.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from events.catalog.common import CatalogPayload
from events.registry import event_type


@event_type("channel.test_requested")
class ChannelTestRequested(CatalogPayload):
    """Send user `user_id`'s channel `channel_id` a test message. Keyed by the user, so a
    user's tests are delivered in the order they were asked for."""

    category: ClassVar[str] = "channel-tests"

    user_id: UUID
    channel_id: str = Field(min_length=1, max_length=64)
    requested_at: AwareDatetime

    def partition_key(self) -> str:
        return str(self.user_id)

"""The plug-in point for channel kinds: a `Sender` per kind, and what a send returns.

Each sender turns a `Notice` into one request to its service and either returns a
`Receipt` (what the channel answered, safe to record) or raises one of the errors of
`notify.errors`. Senders do not retry: `notify.delivery` does, the
same way for every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

from aggregates.channels import WebChannel
from notify.rendering import Notice

C_contra = TypeVar("C_contra", contravariant=True)


@dataclass(frozen=True)
class Receipt:
    """What the channel answered to a delivered message. Never holds a token or URL."""

    response: str
    status_code: int | None = None
    message_id: str | None = None


class Sender(Protocol[C_contra]):
    async def send(self, channel: C_contra, notice: Notice, delivery_id: UUID) -> Receipt:
        """Deliver `notice` to `channel` once; `delivery_id` is stable across retries."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class WebSender:
    """The web channel: nothing to call. The `notification.sent` event is the delivery:
    the notifications read model lists it and the API's WebSocket pushes it live."""

    async def send(self, channel: WebChannel, notice: Notice, delivery_id: UUID) -> Receipt:
        return Receipt("recorded for the web feed")

    async def aclose(self) -> None:
        return None

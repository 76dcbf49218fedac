"""Webhook channels: a signed JSON POST to the user's own URL.

Headers of every request:

- ``X-Impressox-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
  ``<t>.<body>`` with the channel's signing secret (see `handlers.notify.signing`).
- ``X-Impressox-Delivery``: the delivery id, the same on every retry of one alert to one
  channel: a receiver that deduplicates on it never acts twice.
- ``X-Impressox-Event``: ``alert.triggered``.

The body is `handlers.notify.rendering.webhook_body`. Any 2xx is success; see
`handlers.notify.http_delivery` for how other answers are treated.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import httpx

from aggregates.channels import WebhookChannel
from aggregates.secrets import SealedSecret
from events.catalog import AlertTriggered
from handlers.notify.clock import Clock
from handlers.notify.http_delivery import post
from handlers.notify.rendering import Notice, webhook_body
from handlers.notify.senders import Receipt
from handlers.notify.signing import SIGNATURE_HEADER, sign

USER_AGENT = "Impressox-Webhook/1"


class WebhookSender:
    def __init__(
        self, client: httpx.AsyncClient, open_secret: Callable[[SealedSecret], str], clock: Clock
    ) -> None:
        self._client = client
        self._open_secret = open_secret
        self._clock = clock

    async def send(self, channel: WebhookChannel, notice: Notice, delivery_id: UUID) -> Receipt:
        body = webhook_body(notice, delivery_id)
        now = self._clock()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(self._open_secret(channel.secret), body, int(now.timestamp())),
            "X-Impressox-Delivery": str(delivery_id),
            "X-Impressox-Event": AlertTriggered.event_type,
        }
        response = await post(
            self._client, channel.url, "webhook", now=now, content=body, headers=headers
        )
        return Receipt(f"HTTP {response.status_code}", response.status_code)

    async def aclose(self) -> None:
        await self._client.aclose()

"""Webhook channels: a signed JSON POST to the user's own URL.

Headers of every request:

- ``X-Impressox-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
  ``<t>.<body>`` with the channel's signing secret (see `notify.signing`).
- ``X-Impressox-Delivery``: the delivery id, the same on every retry of one alert to one
  channel: a receiver that deduplicates on it never acts twice.
- ``X-Impressox-Event``: ``alert.triggered`` (``channel.test_requested`` for a test).

The body is `notify.rendering.webhook_body`. Any 2xx is success; see
`notify.http_delivery` for how other answers are treated.

The URL is the user's: requests go through `outbound.guarded_http`, so
only public addresses (and those the operator allows) are ever connected to, and plain
http only to destinations the operator allows.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from urllib.parse import urlsplit
from uuid import UUID

from aggregates.channels import WebhookChannel
from aggregates.destinations import (
    DestinationPolicy,
    RefusedDestinationError,
    literal_address,
    normalised_host,
)
from aggregates.secrets import SealedSecret
from notify.clock import Clock
from notify.errors import PermanentDeliveryError
from notify.http_delivery import UNUSABLE_URL, post
from notify.rendering import Notice, webhook_body
from notify.senders import Receipt
from notify.signing import SIGNATURE_HEADER, sign
from outbound.guarded_http import AsyncResolve, guarded_client, system_resolve

USER_AGENT = "Impressox-Webhook/1"


class WebhookSender:
    def __init__(
        self,
        policy: DestinationPolicy,
        open_secret: Callable[[SealedSecret], str],
        clock: Clock,
        *,
        timeout_s: float,
        resolve: AsyncResolve = system_resolve,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._policy = policy
        self._resolve = resolve
        self._client = guarded_client(policy, timeout=timeout_s, resolve=resolve, verify=verify)
        self._open_secret = open_secret
        self._clock = clock

    async def send(self, channel: WebhookChannel, notice: Notice, delivery_id: UUID) -> Receipt:
        await self._check_plain_http(channel.url)
        body = webhook_body(notice, delivery_id)
        now = self._clock()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(self._open_secret(channel.secret), body, int(now.timestamp())),
            "X-Impressox-Delivery": str(delivery_id),
            "X-Impressox-Event": notice.event_type,
        }
        response = await post(
            self._client, channel.url, "webhook", now=now, content=body, headers=headers
        )
        return Receipt(f"HTTP {response.status_code}", response.status_code)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _check_plain_http(self, url: str) -> None:
        """Plain http goes only where the operator allows it (the allow list may have
        changed since the channel was added). A refused address is refused as such
        first, as the connection would be."""
        parts = urlsplit(url)
        if parts.scheme != "http":
            return
        try:
            port = parts.port
        except ValueError:  # ":99999", ":abc": stored before ports were checked
            raise PermanentDeliveryError(f"webhook: {UNUSABLE_URL}") from None
        port = port or 80
        host = parts.hostname or ""
        literal = literal_address(host)
        try:
            self._policy.check_host(host)
            addresses = (
                [str(literal)]
                if literal is not None
                else await self._resolve(normalised_host(host), port)
            )
            for address in addresses:
                self._policy.check_address(host, address, port)
        except RefusedDestinationError as refused:
            raise PermanentDeliveryError(f"webhook: refused: {refused}") from None
        except (OSError, UnicodeError):
            addresses = []
        if not self._policy.is_allowed_destination(host, addresses, port):
            raise PermanentDeliveryError(
                "webhook: refused: plain http is only for destinations the operator allows"
            )

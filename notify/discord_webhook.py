"""Discord webhook channels: execute the channel's incoming webhook over HTTP.

The sealed URL (``https://discord.com/api/webhooks/<id>/<token>``) is opened only to
take its id and token; the request goes to ``<discord_api_url>/webhooks/<id>/<token>``,
so all Discord traffic follows the one setting (and tests can point it at a local
server). ``?wait=true`` makes Discord answer with the created message, whose id is
recorded. A deleted webhook answers 404 (permanent); 429s carry ``retry_after``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import UUID

import httpx

from aggregates.channels import DiscordWebhookChannel
from aggregates.secrets import SealedSecret
from notify.clock import Clock
from notify.errors import PermanentDeliveryError
from notify.http_delivery import post
from notify.rendering import Notice, discord_message
from notify.senders import Receipt

_WEBHOOK_PATH = re.compile(r"/webhooks/(?P<id>\d+)/(?P<token>[\w-]+)/?$")


class DiscordWebhookSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        api_url: str,
        open_secret: Callable[[SealedSecret], str],
        clock: Clock,
    ) -> None:
        self._client = client
        self._api_url = api_url.rstrip("/")
        self._open_secret = open_secret
        self._clock = clock

    async def send(
        self, channel: DiscordWebhookChannel, notice: Notice, delivery_id: UUID
    ) -> Receipt:
        match = _WEBHOOK_PATH.search(self._open_secret(channel.url))
        if match is None:
            raise PermanentDeliveryError("discord webhook: the stored URL is not a webhook URL")
        url = f"{self._api_url}/webhooks/{match['id']}/{match['token']}"
        response = await post(
            self._client,
            url,
            "discord webhook",
            now=self._clock(),
            params={"wait": "true"},
            json=discord_message(notice),
        )
        message_id = _message_id(response)
        shown = f"discord message_id={message_id}" if message_id else f"HTTP {response.status_code}"
        return Receipt(shown, response.status_code, message_id)

    async def aclose(self) -> None:
        await self._client.aclose()


def _message_id(response: httpx.Response) -> str | None:
    if response.status_code == 204 or not response.content:
        return None
    try:
        value = response.json().get("id")
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None

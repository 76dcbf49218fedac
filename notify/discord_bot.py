"""Discord bot channels: a message in a channel, or a direct message, from our bot.

Requests go through discord.py's HTTP client (`discord.http.HTTPClient`), logged in
with ``IMPRESSOX_DISCORD_BOT_TOKEN`` on first use. A DM first opens (or finds) the DM
channel with the user, cached per user for the life of the process.

Where requests go: discord.py has no per-client API address. Every route reads the
class attribute ``discord.http.Route.BASE``, which discord.py itself rewrites to switch
API versions; its login (``GET /users/@me``) builds its route internally, so routes of
our own cannot avoid it. We set that attribute from ``IMPRESSOX_DISCORD_API_URL`` when
the client logs in: it applies to every discord.py client of the process, which in a
notify worker is this one.

discord.py retries some failures itself before we see them: it sleeps through a 429
whose ``retry_after`` is at most 30 s (longer ones raise `RateLimited`, which we retry
after the wait asked for) and retries 500/502/504/524 up to five times, one to nine
seconds apart. The request timeout (``IMPRESSOX_NOTIFY_TIMEOUT_S``) bounds the whole
call, those waits included; a call cut short is a transient failure like any other.
Other 5xx (503) reach us at once and follow our retry policy.

Answers: 403 (missing access, DMs closed) and 404 (unknown channel or user) and other
4xx are permanent; a rejected token makes the channel kind unavailable.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import aiohttp
from discord import (
    DiscordServerError,
    HTTPException,
    LoginFailure,
    RateLimited,
)
from discord.http import HTTPClient, Route

from aggregates.channels import DiscordChannel
from notify.errors import (
    ChannelUnavailableError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notify.rendering import Notice, discord_message
from notify.senders import Receipt

MIN_RATELIMIT_TIMEOUT_S = 30.0
"""discord.py sleeps through shorter 429s itself and raises `RateLimited` for longer ones
(it refuses a lower threshold)."""


class DiscordBotSender:
    def __init__(self, token: str | None, api_url: str, timeout_s: float) -> None:
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._timeout_s = timeout_s
        self._http: HTTPClient | None = None
        self._login = asyncio.Lock()
        self._dm_channels: dict[str, str] = {}

    async def send(self, channel: DiscordChannel, notice: Notice, delivery_id: UUID) -> Receipt:
        return await self.post(channel, discord_message(notice))

    async def post(self, channel: DiscordChannel, body: dict[str, Any]) -> Receipt:
        """Post one message body (content, embeds, allowed mentions) to the channel."""
        try:
            async with asyncio.timeout(self._timeout_s):
                http = await self._client()
                target = (
                    channel.id if channel.target == "channel" else await self._dm(http, channel.id)
                )
                route = Route("POST", "/channels/{channel_id}/messages", channel_id=target)
                message = await http.request(route, json=body)
        except (HTTPException, RateLimited, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise _delivery_error(error) from None
        return Receipt(f"discord message_id={message['id']}", 200, str(message["id"]))

    async def _client(self) -> HTTPClient:
        async with self._login:
            if self._http is not None:
                return self._http
            if not self._token:
                raise ChannelUnavailableError(
                    "discord: no bot token configured (IMPRESSOX_DISCORD_BOT_TOKEN)"
                )
            Route.BASE = self._api_url
            http = HTTPClient(
                asyncio.get_running_loop(), max_ratelimit_timeout=MIN_RATELIMIT_TIMEOUT_S
            )
            try:
                await http.static_login(self._token)
            except LoginFailure:
                await http.close()
                raise ChannelUnavailableError(
                    "discord: the bot token was rejected (reset or revoked?)"
                ) from None
            except BaseException:
                await http.close()
                raise
            self._http = http
            return http

    async def _dm(self, http: HTTPClient, user_id: str) -> str:
        known = self._dm_channels.get(user_id)
        if known is None:
            channel = await http.start_private_message(int(user_id))
            known = self._dm_channels[user_id] = str(channel["id"])
        return known

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def _delivery_error(error: BaseException) -> DeliveryError:
    if isinstance(error, RateLimited):
        return TransientDeliveryError(
            f"discord: rate limited, retry after {error.retry_after:g}s",
            status_code=429,
            retry_after_s=error.retry_after,
        )
    if isinstance(error, HTTPException):
        return _http_error(error)
    if isinstance(error, TimeoutError):
        return TransientDeliveryError("discord: no answer within the timeout")
    return TransientDeliveryError(f"discord: {type(error).__name__} (cannot connect)")


def _http_error(error: HTTPException) -> DeliveryError:
    detail = f"discord: HTTP {error.status}: {error.text or error.response.reason}"
    if isinstance(error, DiscordServerError):
        return TransientDeliveryError(detail, status_code=error.status)
    if error.status == 429:  # refused without a rate-limit body (Cloudflare, say)
        return TransientDeliveryError(
            detail,
            status_code=429,
            retry_after_s=_seconds(error.response.headers.get("Retry-After")),
        )
    return PermanentDeliveryError(detail, status_code=error.status)  # 403, 404 and other 4xx


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None

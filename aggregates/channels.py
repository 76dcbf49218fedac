"""Where a user wants to hear from us: notification channels and linked identities."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from aggregates.model import Immutable
from aggregates.secrets import SealedSecret

Platform = Literal["web", "telegram", "discord"]

CHANNEL_ID = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
WEB_CHANNEL_ID = "web"
"""Every user has the web channel (the page's live feed and the notifications list)."""


def _channel_id(value: str) -> str:
    if not CHANNEL_ID.match(value):
        raise ValueError(
            "a channel id is lowercase letters, digits and '-', starting with a letter"
        )
    return value


ChannelId = Annotated[str, AfterValidator(_channel_id)]


WEBHOOK_PORT = "a webhook URL's port is a number from 1 to 65535"


def _webhook_url_shape(value: str) -> str:
    """The URL's shape only, as a stored channel is read back. Where it may point (public
    addresses; plain http only where the operator allows) is `aggregates.destinations`'
    to say, when the channel is added and again when sending."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("a webhook URL is an https:// URL")
    if parts.username or parts.password:
        raise ValueError("put no credentials in a webhook URL; we sign each request instead")
    return value


def _webhook_url(value: str) -> str:
    """A new webhook's URL: its shape, and a port a connection can use.

    Only new URLs are held to the port (a URL with ``:99999`` or ``:abc`` was once
    accepted): a channel stored before is read back with `_webhook_url_shape`, so its
    user still loads, and sending refuses it (`notify.http_delivery`).
    """
    _webhook_url_shape(value)
    try:
        port = urlsplit(value).port
    except ValueError:
        raise ValueError(WEBHOOK_PORT) from None
    if port == 0:
        raise ValueError(WEBHOOK_PORT)
    return value


class Identity(Immutable):
    """One of a user's accounts elsewhere (one user, many platforms)."""

    platform: Platform
    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")


class WebChannel(Immutable):
    kind: Literal["web"] = "web"


class TelegramChannel(Immutable):
    kind: Literal["telegram"] = "telegram"
    chat_id: int
    """A private chat, group or channel id (groups are negative)."""


class DiscordChannel(Immutable):
    """A channel our bot posts in, or a user it sends direct messages to."""

    kind: Literal["discord"] = "discord"
    target: Literal["channel", "dm"]
    id: str = Field(pattern=r"^\d{17,20}$")
    """The channel's or the user's snowflake."""


class DiscordWebhookChannel(Immutable):
    """A Discord channel's incoming webhook: its URL holds a token, so it is sealed."""

    kind: Literal["discord_webhook"] = "discord_webhook"
    url: SealedSecret


WebhookUrl = Annotated[str, AfterValidator(_webhook_url)]
"""A webhook URL a user gives now (`aggregates.services.users.WebhookSpec`)."""
StoredWebhookUrl = Annotated[str, AfterValidator(_webhook_url_shape)]
"""A stored channel's URL: possibly one accepted before the port was checked."""


class WebhookChannel(Immutable):
    kind: Literal["webhook"] = "webhook"
    url: StoredWebhookUrl
    secret: SealedSecret
    """Signs each request (HMAC-SHA256); sealed with the server key, shown once."""


Channel = Annotated[
    WebChannel | TelegramChannel | DiscordChannel | DiscordWebhookChannel | WebhookChannel,
    Field(discriminator="kind"),
]

DISCORD_WEBHOOK_URL = re.compile(
    r"^https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]+$"
)

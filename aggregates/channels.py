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


def _webhook_url(value: str) -> str:
    """The URL's shape only. Where it may point (public addresses; plain http only where
    the operator allows) is `aggregates.destinations`' to say, when the channel is added
    and again when sending: a stored channel is read back with this check alone."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("a webhook URL is an https:// URL")
    if parts.username or parts.password:
        raise ValueError("put no credentials in a webhook URL; we sign each request instead")
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


class WebhookChannel(Immutable):
    kind: Literal["webhook"] = "webhook"
    url: WebhookUrl
    secret: SealedSecret
    """Signs each request (HMAC-SHA256); sealed with the server key, shown once."""


Channel = Annotated[
    WebChannel | TelegramChannel | DiscordChannel | DiscordWebhookChannel | WebhookChannel,
    Field(discriminator="kind"),
]

DISCORD_WEBHOOK_URL = re.compile(
    r"^https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]+$"
)

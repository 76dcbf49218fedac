"""Delivery of alerts and replies: the channels, retries, rate limits, webhook destinations."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from aggregates.destinations import DestinationPolicy
from impressox.settings.env import env_alias as _env


class NotifySettings(BaseModel):
    """Delivery of alerts and replies: the channels, retries, rate limits, webhook destinations."""

    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("telegram_bot_token"),
        description="Token of the Telegram bot that delivers alerts and the agent's replies"
        " (from @BotFather); set, `impressox up` also runs the bot users talk to the agent"
        " through. Unset: deliveries to Telegram fail as not configured (and are"
        " dead-lettered).",
    )  # fmt: skip
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot", pattern=r"^https?://",
        validation_alias=_env("telegram_api_url"),
        description="Telegram Bot API base URL; the token is appended (or put {token} where it"
        " goes), e.g. a self-hosted Bot API server.",
    )  # fmt: skip
    discord_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("discord_bot_token"),
        description="Token of the Discord bot that posts alerts in channels and DMs. Unset:"
        " Discord bot channels fail as not configured (webhook channels need no token).",
    )  # fmt: skip
    discord_api_url: str = Field(
        "https://discord.com/api/v10", pattern=r"^https?://",
        validation_alias=_env("discord_api_url"),
        description="Discord REST API base URL, for the bot and for executing webhooks.",
    )  # fmt: skip
    discord_gateway_url: str = Field(
        "wss://gateway.discord.gg/", pattern=r"^wss?://",
        validation_alias=_env("discord_gateway_url"),
        description="Discord gateway WebSocket URL the bot first connects to (Discord's"
        " READY names where to resume).",
    )  # fmt: skip
    notify_timeout_s: float = Field(
        10.0, gt=0, validation_alias=_env("notify_timeout_s"),
        description="Longest one request to a channel (Telegram, Discord, a webhook) may take.",
    )  # fmt: skip
    notify_max_attempts: int = Field(
        4, ge=1, le=20, validation_alias=_env("notify_max_attempts"),
        description="Tries of one delivery through timeouts, 5xx and 429s before it is recorded"
        " as failed and the alert dead-lettered.",
    )  # fmt: skip
    notify_backoff_ms: int = Field(
        500, ge=0, validation_alias=_env("notify_backoff_ms"),
        description="First retry delay of a delivery; doubles per attempt, full jitter; a"
        " channel's Retry-After, if longer, wins.",
    )  # fmt: skip
    notify_backoff_max_ms: int = Field(
        8000, ge=0, validation_alias=_env("notify_backoff_max_ms"),
        description="Longest retry delay of a delivery (before Retry-After).",
    )  # fmt: skip
    notify_wait_max_s: float = Field(
        15.0, ge=0, validation_alias=_env("notify_wait_max_s"),
        description="Longest one alert waits in place (retries, rate limits) while it holds its"
        " partition: beyond, rate-limited deliveries are held for later and failing ones given"
        " up. Keep it under IMPRESSOX_HANDLER_TIMEOUT_S.",
    )  # fmt: skip
    notify_rate_per_minute: int = Field(
        20, ge=0, validation_alias=_env("notify_rate_per_minute"),
        description="Messages per minute to one channel of one user (0: unlimited); more are"
        " delayed, never dropped.",
    )  # fmt: skip
    notify_burst: int = Field(
        5, ge=1, validation_alias=_env("notify_burst"),
        description="Messages one channel of one user may get at once before the rate applies.",
    )  # fmt: skip
    notify_user_cache_s: float = Field(
        5.0, ge=0, validation_alias=_env("notify_user_cache_s"),
        description="How long a notify worker reuses a loaded user: a channel or quiet-hours"
        " change takes this long to apply to deliveries.",
    )  # fmt: skip
    notify_release_interval_s: float = Field(
        1.0, gt=0, validation_alias=_env("notify_release_interval_s"),
        description="How often notify workers look for held deliveries that are due (quiet"
        " hours over, rate limit refilled).",
    )  # fmt: skip
    allowed_destinations: list[str] = Field(
        [], validation_alias=_env("allowed_destinations"),
        description="Hosts and networks users' URLs (webhooks, watched RSS feeds) may reach"
        " although they are not public"
        " (JSON list of host names, addresses or CIDR networks, e.g. [\"hooks.corp\","
        " \"10.20.0.0/16\"], or a host name or address with one port, e.g."
        " \"hooks.corp:8443\", \"[::1]:9000\"); plain http is accepted only to these."
        " Empty: public addresses only. Cloud metadata addresses stay refused. An entry"
        " without a port opens all its ports: 127.0.0.1 (the tests' receivers) lets users"
        " reach every local port, the embedded Redis and MongoDB included; list on-premise"
        " receivers only, with their port where you can.",
    )  # fmt: skip

    @field_validator("allowed_destinations")
    @classmethod
    def _destinations(cls, entries: list[str]) -> list[str]:
        DestinationPolicy.allowing(entries)
        return entries

"""What delivery uses besides the store, handed in by the composition root.

Kept light (types only at run time): `notify.handler` imports it in every process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from handlers.declaration import HandlerContext

if TYPE_CHECKING:
    from pydantic import SecretStr

    from aggregates.destinations import DestinationPolicy
    from aggregates.services.conversations import Conversations
    from aggregates.services.users import Users
    from notify.retry import RetryPolicy


@dataclass(frozen=True)
class NotifyConfig:
    """The channels' endpoints and tokens, and the delivery policy, for both the alerts'
    and the replies' delivery."""

    telegram_token: SecretStr | None
    telegram_api_url: str
    discord_token: SecretStr | None
    discord_api_url: str
    timeout_s: float
    retry: RetryPolicy
    """Attempts and backoff; each service puts in its own jitter."""
    rate_per_minute: int
    burst: int
    user_cache_s: float
    release_interval_s: float
    destinations: DestinationPolicy
    """Where webhooks may point."""


@dataclass(frozen=True)
class NotifyContext(HandlerContext):
    """For `notify`: the users (their channels, quiet hours and sealed secrets)."""

    users: Users
    notify: NotifyConfig


@dataclass(frozen=True)
class RepliesContext(HandlerContext):
    """For `agent-replies`: the conversations (which thread a reply belongs to)."""

    conversations: Conversations
    notify: NotifyConfig

"""Who an alert goes to: the user's channels and quiet hours, loaded from the User aggregate.

Users are loaded through the aggregates application (`aggregates.services.users.Users`),
which is synchronous: each load runs in a thread, never on the event loop. A loaded user
is reused for ``IMPRESSOX_NOTIFY_USER_CACHE_S`` seconds (by this process's monotonic
clock), so a burst of alerts for one user costs one load; a channel removed or quiet
hours changed take at most that long to apply. 0 turns the cache off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from aggregates.channels import Channel
from aggregates.errors import DomainError, NotFoundError
from aggregates.secrets import SealedSecret
from aggregates.services.users import Users
from aggregates.user import QuietHours
from events.errors import DependencyUnavailableError
from notify.errors import ChannelUnavailableError

CACHE_LIMIT = 10_000
"""Users kept at most; the oldest are dropped first."""


@dataclass(frozen=True)
class Recipient:
    """What delivery needs of a user (a snapshot: never the live aggregate)."""

    user_id: UUID
    channels: Mapping[str, Channel]
    quiet_hours: QuietHours | None


class Recipients:
    def __init__(
        self, users: Users, ttl_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._users = users
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._cache: dict[UUID, tuple[float, Recipient | None]] = {}

    async def get(self, user_id: UUID) -> Recipient | None:
        """The user, or None if there is no such user."""
        now = self._monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        recipient = await asyncio.to_thread(self._load, user_id)
        if self._ttl_s > 0:
            if len(self._cache) >= CACHE_LIMIT:
                del self._cache[next(iter(self._cache))]
            self._cache[user_id] = (now, recipient)
        return recipient

    def _load(self, user_id: UUID) -> Recipient | None:
        try:
            user = self._users.load(user_id)
        except NotFoundError:
            return None
        except (OperationalError, RedisConnectionError, RedisTimeoutError) as error:
            raise DependencyUnavailableError(f"cannot load user {user_id}: {error}") from None
        return Recipient(user.id, dict(user.channels), user.quiet_hours)

    def open_secret(self, sealed: SealedSecret) -> str:
        """A channel's sealed secret in clear (a webhook's signing secret or URL)."""
        try:
            return self._users.open_secret(sealed)
        except DomainError as error:
            raise ChannelUnavailableError(str(error)) from None

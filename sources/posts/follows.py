"""What users follow, as the watches application's log says: accounts and keywords.

The X and RSS sources follow every user's watched accounts and keywords. They learn
them from the watches application's notification log in Redis (the stream they already
write to), not from the `watches` read model: no MongoDB to reach, no projection lag,
and the same fold whether a source starts fresh or catches up. Each read continues after
the last position seen, so a poll costs only the changes since the previous one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from events.errors import InfrastructureError
from events.names import StreamNames
from events.position import Position
from events.store import EventStore

WATCHES_APPLICATION = "watches"
FOLLOWED = "watch.account_followed"
UNFOLLOWED = "watch.account_unfollowed"
KEYWORD_FOLLOWED = "watch.keyword_followed"
KEYWORD_UNFOLLOWED = "watch.keyword_unfollowed"
TYPES = (FOLLOWED, UNFOLLOWED, KEYWORD_FOLLOWED, KEYWORD_UNFOLLOWED)


@dataclass
class Follows:
    """Accounts per platform and keywords that at least one user follows, kept current."""

    store: EventStore
    position: Position | None = None
    _accounts: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    _keywords: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def stream(self) -> str:
        names: StreamNames = self.store.names
        return names.notification_log(StreamNames.application_tag(WATCHES_APPLICATION))

    async def refresh(self) -> None:
        """Apply the log's changes since the last refresh."""
        start = None if self.position is None else Position(self.position.ms, self.position.seq + 1)
        try:
            async for recorded in self.store.read_stream(self.stream, start=start, types=TYPES):
                self.position = recorded.position
                watch = recorded.event.key
                data = recorded.event.payload.model_dump(mode="json")
                if recorded.event.type == FOLLOWED:
                    self._accounts[watch].add(_account(data))
                elif recorded.event.type == UNFOLLOWED:
                    self._accounts[watch].discard(_account(data))
                elif recorded.event.type == KEYWORD_FOLLOWED:
                    self._keywords[watch].add(data["keyword"])
                else:
                    self._keywords[watch].discard(data["keyword"])
        except RedisError as error:
            raise InfrastructureError(f"cannot read the watches' log: {error}") from error

    def accounts(self, platform: str) -> list[str]:
        """Handles followed on `platform` by anyone, sorted."""
        held = (account for accounts in self._accounts.values() for account in accounts)
        return sorted({handle for kind, handle in held if kind == platform})

    def keywords(self) -> list[str]:
        """Keywords followed by anyone, sorted."""
        return sorted({keyword for held in self._keywords.values() for keyword in held})


def _account(data: dict[str, object]) -> tuple[str, str]:
    account = data["account"]
    assert isinstance(account, dict), "an account event without its account"
    return str(account["platform"]), str(account["handle"])

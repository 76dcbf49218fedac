"""What the chain watcher watches: wallets and contracts, kept current from the logs.

Three sources, as `sources/posts/follows.py` learns accounts:

- the contracts of ours deployed on the chain (the deployments file), always;
- the wallets of every user's Watch (`watch.wallet_watched` / `wallet_unwatched` in the
  watches application's log);
- the wallet or contract of every chain rule (`alert_rule.created` / `updated` /
  `deleted` / `expired` in the alert rules' log); a paused rule still watches, so that
  resuming it needs no backfill.

Each `refresh` reads both logs from the position it reached last (Redis, no MongoDB, no
projection lag), so a refresh per block costs two small reads. A wallet watched by two
users stays watched until both let it go. What changed since the last refresh applies
from the next block on: `impressox chain backfill` reads the past for a new wallet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from aggregates.services.alert_rules import AlertRules
from aggregates.services.watches import Watches
from events.envelope import RecordedEvent
from events.errors import InfrastructureError
from events.names import StreamNames
from events.position import Position
from events.store import EventStore

WALLET_WATCHED = "watch.wallet_watched"
WALLET_UNWATCHED = "watch.wallet_unwatched"
WATCH_TYPES = (WALLET_WATCHED, WALLET_UNWATCHED)

RULE_CREATED = "alert_rule.created"
RULE_UPDATED = "alert_rule.updated"
RULE_ENDED = ("alert_rule.deleted", "alert_rule.expired")
RULE_TYPES = (RULE_CREATED, RULE_UPDATED, *RULE_ENDED)


@dataclass(frozen=True)
class WatchTargets:
    """The addresses one watcher asks the node about, in lowercase."""

    contracts: frozenset[str] = frozenset()
    wallets: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.contracts or self.wallets)


@dataclass
class _Log:
    """One application's log, read from where the last refresh stopped."""

    stream: str
    types: tuple[str, ...]
    position: Position | None = None


@dataclass
class WatchSet:
    """The union of what every user and rule watches, plus our own contracts."""

    store: EventStore
    fixed_contracts: frozenset[str] = frozenset()
    _wallets_by_watch: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _rule_targets: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = self.store.names
        self._logs = [
            _Log(names.notification_log(StreamNames.application_tag(Watches.name)), WATCH_TYPES),
            _Log(names.notification_log(StreamNames.application_tag(AlertRules.name)), RULE_TYPES),
        ]
        self._targets = self._current()

    @property
    def targets(self) -> WatchTargets:
        return self._targets

    async def refresh(self) -> bool:
        """Apply both logs' changes since the last refresh; whether the targets changed."""
        for source in self._logs:
            start = (
                None
                if source.position is None
                else Position(source.position.ms, source.position.seq + 1)
            )
            try:
                async for recorded in self.store.read_stream(
                    source.stream, start=start, types=source.types
                ):
                    source.position = recorded.position
                    self._apply(recorded)
            except RedisError as error:
                raise InfrastructureError(f"cannot read {source.stream}: {error}") from error
        current = self._current()
        changed = current != self._targets
        self._targets = current
        return changed

    def _apply(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        data: dict[str, Any] = event.payload.model_dump(mode="json")
        if event.type == WALLET_WATCHED:
            self._wallets_by_watch[event.key].add(str(data["wallet"]["address"]).lower())
        elif event.type == WALLET_UNWATCHED:
            self._wallets_by_watch[event.key].discard(str(data["address"]).lower())
        elif event.type in (RULE_CREATED, RULE_UPDATED):
            target = data["spec"]["target"]
            if target.get("kind") == "chain":
                self._rule_targets[event.key] = (
                    _lower(target.get("wallet")),
                    _lower(target.get("contract")),
                )
            else:
                self._rule_targets.pop(event.key, None)  # a rule moved off the chain
        else:
            self._rule_targets.pop(event.key, None)

    def _current(self) -> WatchTargets:
        wallets = {wallet for held in self._wallets_by_watch.values() for wallet in held}
        contracts = set(self.fixed_contracts)
        for wallet, contract in self._rule_targets.values():
            if wallet is not None:
                wallets.add(wallet)
            if contract is not None:
                contracts.add(contract)
        return WatchTargets(contracts=frozenset(contracts), wallets=frozenset(wallets))


def _lower(address: Any) -> str | None:
    return address.lower() if isinstance(address, str) else None


def fixed_targets(contracts: Iterable[str] = (), wallets: Iterable[str] = ()) -> WatchTargets:
    """Targets given outright (a backfill's ``--contract`` and ``--wallet``), lowercased."""
    return WatchTargets(
        contracts=frozenset(address.lower() for address in contracts),
        wallets=frozenset(address.lower() for address in wallets),
    )

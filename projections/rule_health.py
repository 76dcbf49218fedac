"""Whether a rule can fire, from what the system knows now: its health.

A rule that can never fire is worse than no rule: its owner waits for an alert that
will not come. So every rule's answer carries a health, one word and a sentence:

- ``armed``: it fires when its condition holds (a running source brought a price of its
  market lately; a post rule, or a chain rule while a chain watcher runs, at once).
- ``waiting_for_price``: a running source covers its market but sent no price yet.
- ``no_source_for_symbol``: no running price source reports its symbol (on its venue):
  only prices posted by hand could fire it.
- ``source_stale``: covered, but no price of its market came for `stale_after_s`.
- ``no_chain_watcher``: it watches a wallet or contract, and nothing watches a chain.
- ``channel_missing``: it names a channel its owner removed (it fires, but reaches only
  the others).
- ``invalid_threshold``: its price threshold is zero or less, so it never fires (or,
  above, fires on every price); such rules were accepted before they were refused.
- ``paused``, ``completed``, ``expired``, ``deleted``: not evaluated, as its status (or
  its passed expiry) says.

Health is computed when a rule is read, not stored in the `alert_rules` documents. It
depends on other aggregates and streams (the owner's channels, the sources running,
the prices arriving) and on the clock (expiry, a source gone quiet), and it changes far
more often than the rule: the first price of a symbol would have to rewrite every rule
on it, and a silent source would have to be noticed by some timer writing documents.
Read instead, it costs two or three indexed queries per page of rules (`venue_prices`,
`price_coverage`, `users`) and is never out of date with what those read models say.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from aggregates.rule_spec import (
    Above,
    Below,
    CrossesDown,
    CrossesUp,
    RuleSpec,
    threshold_problem,
)
from projections.reader import ReadModels
from projections.readmodels.price_coverage import PriceCoverage
from projections.readmodels.prices import Prices
from projections.readmodels.users import Users

Health = Literal[
    "armed",
    "waiting_for_price",
    "no_source_for_symbol",
    "source_stale",
    "no_chain_watcher",
    "channel_missing",
    "invalid_threshold",
    "paused",
    "completed",
    "expired",
    "deleted",
]
INGEST_PATH = "/v1/events/ticks"


@dataclass(frozen=True)
class RuleHealth:
    health: Health
    detail: str
    """One sentence for the rule's owner: what the rule waits for, or what to fix."""


@dataclass(frozen=True)
class RuleView:
    """A rule as health needs it: who owns it, its spec (as JSON), its status."""

    owner_id: str
    spec: Mapping[str, Any]
    status: str


@dataclass(frozen=True)
class Market:
    """What is known of one symbol on one venue."""

    sources: tuple[str, ...]
    """The running sources reporting it (by name; one per run)."""
    last_price_at: datetime | None
    """When its latest price arrived (appended), if one ever did."""


@dataclass(frozen=True)
class Facts:
    """Everything the health of a set of rules depends on, read at one moment."""

    now: datetime
    markets: Mapping[tuple[str, str], Market]
    channels: Mapping[str, frozenset[str]]
    """By owner; an owner missing here is not known yet, and not judged."""
    chain_watched: bool
    stale_after: timedelta | None
    """How long without a price a covered market may go; None: never stale."""


def health_of(rule: RuleView, facts: Facts) -> RuleHealth:
    """The rule's health, from `facts`: the first of its problems, its others added."""
    spec = rule.spec
    quiet = _not_evaluated(rule, facts.now)
    if quiet is not None:
        return quiet
    if spec["condition"].get("threshold", 1) <= 0:
        condition = RuleSpec.model_validate(spec).condition
        assert isinstance(condition, Above | Below | CrossesUp | CrossesDown)
        return RuleHealth(
            "invalid_threshold",
            f"Prices are above zero: {threshold_problem(condition)}. Change the threshold.",
        )
    target = spec["target"]
    firing = _firing(target, facts)
    missing = _missing_channels(rule, facts)
    if firing is not None:
        return RuleHealth(
            firing.health, f"{firing.detail} {missing.detail}" if missing else firing.detail
        )
    if missing is not None:
        return missing
    return RuleHealth("armed", _watching(target, facts))


def _not_evaluated(rule: RuleView, now: datetime) -> RuleHealth | None:
    status = rule.status
    if status == "deleted":
        return RuleHealth("deleted", "Deleted: it is kept only as a record.")
    if status == "completed":
        return RuleHealth("completed", "It fired once, as asked; change it to arm it again.")
    expires_at = rule.spec.get("expires_at")
    expiry = datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else expires_at
    if status == "expired" or (expiry is not None and expiry <= now):
        return RuleHealth("expired", "It expired; give it a later expires_at to arm it again.")
    if status == "paused":
        return RuleHealth("paused", "Paused: resume it to arm it again.")
    return None


def _firing(target: Mapping[str, Any], facts: Facts) -> RuleHealth | None:
    """Why the rule's target cannot bring it to fire now (None: it can)."""
    if target["kind"] == "chain" and not facts.chain_watched:
        return RuleHealth(
            "no_chain_watcher",
            "No chain watcher runs: the rule will not fire until one does (set CHAIN_RPC_URL,"
            " or run `impressox chain watch`).",
        )
    if target["kind"] == "symbol":
        return _market_problem(target["symbol"], target.get("venue"), facts)
    return None


def _market_problem(symbol: str, venue: str | None, facts: Facts) -> RuleHealth | None:
    where = f"{symbol} on {venue}" if venue else symbol
    markets = _markets_of(symbol, venue, facts)
    covered = [market for market in markets.values() if market.sources]
    if not covered:
        return RuleHealth("no_source_for_symbol", _uncovered(where, markets, facts.now))
    if any(_fresh(market, facts) for market in covered):
        return None
    sources = ", ".join(sorted({source for market in covered for source in market.sources}))
    last = max((m.last_price_at for m in covered if m.last_price_at), default=None)
    if last is None:
        return RuleHealth(
            "waiting_for_price",
            f"{sources} reports {where}, but no price has arrived yet: it fires once prices come.",
        )
    return RuleHealth(
        "source_stale",
        f"No {where} price from {sources} for {_ago(facts.now - last)}: it cannot fire until"
        " prices resume.",
    )


def _markets_of(symbol: str, venue: str | None, facts: Facts) -> dict[tuple[str, str], Market]:
    return {
        key: market
        for key, market in facts.markets.items()
        if key[0] == symbol and (venue is None or key[1] == venue)
    }


def _uncovered(where: str, markets: Mapping[tuple[str, str], Market], now: datetime) -> str:
    said = f"No running price source reports {where} yet: it will not fire until one does"
    last = max((m.last_price_at for m in markets.values() if m.last_price_at), default=None)
    if last is None:
        return said + "."
    return (
        f"{said}, or until a price of it is posted to {INGEST_PATH} (the last came"
        f" {_ago(now - last)} ago)."
    )


def _fresh(market: Market, facts: Facts) -> bool:
    if market.last_price_at is None:
        return False
    return facts.stale_after is None or facts.now - market.last_price_at <= facts.stale_after


def _missing_channels(rule: RuleView, facts: Facts) -> RuleHealth | None:
    known = facts.channels.get(rule.owner_id)
    if known is None:
        return None
    wanted = list(rule.spec["channels"])
    gone = [channel for channel in wanted if channel not in known]
    if not gone:
        return None
    names = ", ".join(repr(channel) for channel in gone)
    left = [channel for channel in wanted if channel in known]
    reach = f"its alerts reach only {', '.join(left)}" if left else "its alerts reach no one"
    return RuleHealth(
        "channel_missing",
        f"Channel {names} no longer exists: {reach} (add it, or change the rule).",
    )


def _watching(target: Mapping[str, Any], facts: Facts) -> str:
    if target["kind"] == "posts":
        parts = [f"mentioning {target['keyword']}" if target.get("keyword") else ""]
        parts.append(f"by @{target['account'].lstrip('@')}" if target.get("account") else "")
        return "Watching posts " + " ".join(part for part in parts if part) + "."
    if target["kind"] == "chain":
        return "Watching the chain."
    symbol = target["symbol"]
    markets = _markets_of(symbol, target.get("venue"), facts)
    venues = sorted(key[1] for key, market in markets.items() if _fresh(market, facts))
    return f"Watching {symbol} on {', '.join(venues)}."


def _ago(elapsed: timedelta) -> str:
    seconds = max(0, int(elapsed.total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


class ChainPresence(Protocol):
    async def watching(self) -> bool:
        """Whether a chain watcher runs now, here or elsewhere (`chain.presence`)."""
        ...


class RuleHealthReader:
    """Reads the facts a page of rules' health depends on, and judges each rule.

    Built once per process (the API's lifespan, the agent's worker) with what the
    settings say: whether a chain is configured here (`chain_watched`) and, through
    `presence`, whether a chain watcher is seen running anywhere (which decides when
    given); and when a silent source is stale.
    """

    def __init__(
        self,
        read_models: ReadModels,
        *,
        chain_watched: bool,
        stale_after_s: float,
        presence: ChainPresence | None = None,
    ) -> None:
        self.read_models = read_models
        self.chain_watched = chain_watched
        self.presence = presence
        self.stale_after = timedelta(seconds=stale_after_s) if stale_after_s > 0 else None

    async def chain_is_watched(self) -> bool:
        """Whether chain rules and watched wallets can report anything now: what
        `presence` sees when there is one (a configuration alone proves nothing once
        its watcher has had time to start), else what the settings say."""
        if self.presence is not None:
            return await self.presence.watching()
        return self.chain_watched

    async def health(
        self, rules: Sequence[RuleView], *, channels: Mapping[str, Collection[str]] | None = None
    ) -> list[RuleHealth]:
        """Each rule's health, in order. `channels` are owners' channels the caller knows
        better than the `users` read model (a channel added a moment ago)."""
        facts = await self.facts(rules, channels or {})
        return [health_of(rule, facts) for rule in rules]

    async def facts(
        self, rules: Sequence[RuleView], channels: Mapping[str, Collection[str]]
    ) -> Facts:
        symbols = sorted(
            {
                rule.spec["target"]["symbol"]
                for rule in rules
                if rule.spec["target"]["kind"] == "symbol"
            }
        )
        owners = sorted({rule.owner_id for rule in rules} - set(channels))
        return Facts(
            now=datetime.now(UTC),
            markets=await self._markets(symbols) if symbols else {},
            channels={
                **(await self._channels(owners) if owners else {}),
                **{owner: frozenset(known) for owner, known in channels.items()},
            },
            chain_watched=(
                await self.chain_is_watched()
                if any(rule.spec["target"]["kind"] == "chain" for rule in rules)
                else self.chain_watched
            ),
            stale_after=self.stale_after,
        )

    async def _markets(self, symbols: list[str]) -> dict[tuple[str, str], Market]:
        wanted = {"symbol": {"$in": symbols}}
        prices = await self.read_models.collection(Prices.name)
        arrived = {
            (document["symbol"], document["venue"]): document["updated_at"]
            async for document in prices.find(wanted, {"symbol": 1, "venue": 1, "updated_at": 1})
        }
        coverage = await self.read_models.collection(PriceCoverage.name)
        running = {
            (document["symbol"], document["venue"]): tuple(
                sorted(run["source"] for run in document["runs"].values())
            )
            async for document in coverage.find(wanted)
        }
        return {
            key: Market(sources=running.get(key, ()), last_price_at=arrived.get(key))
            for key in {*arrived, *running}
        }

    async def _channels(self, owners: list[str]) -> dict[str, frozenset[str]]:
        users = await self.read_models.collection(Users.name)
        return {
            document["_id"]: frozenset(document["channels"])
            async for document in users.find({"_id": {"$in": owners}}, {"channels": 1})
        }

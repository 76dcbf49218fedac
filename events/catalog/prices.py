"""Price ticks: one observed price of one symbol on one venue; a source that starts or
stops reporting a symbol, and one gone quiet."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from events.catalog.common import CatalogPayload, NonNegative, Symbol
from events.registry import event_type

Venue = Field(pattern=r"^[a-z0-9_-]{1,32}$", description="Exchange or source id")
MAX_CLOCK_AHEAD = timedelta(minutes=1)
"""How far a tick's source time may be ahead of our clock when it comes in: venues' and
our clocks differ by a little, never by more. A tick from the future would move the rule
engine's clock, stretch its windows and hold back rules' expiry."""


@event_type("price.tick")
class PriceTick(CatalogPayload):
    """A price as a venue reported it. Keyed by symbol: one symbol's ticks stay in order."""

    category: ClassVar[str] = "ticks"
    ingestable: ClassVar[bool] = True

    symbol: Symbol
    venue: str = Venue
    price: float = Field(gt=0, allow_inf_nan=False)
    volume: NonNegative = Field(
        default=0.0, description="Base units traded since the venue's previous tick, if known"
    )
    source_time: AwareDatetime = Field(description="When the venue says the price was seen")
    simulated: bool = False
    """True for the market simulator's ticks, so no one mistakes them for a market."""

    def partition_key(self) -> str:
        return self.symbol

    def refusals_at(self, now: datetime) -> list[tuple[str, str]]:
        if self.source_time - now > MAX_CLOCK_AHEAD:
            return [("source_time", f"is in the future (more than {MAX_CLOCK_AHEAD} ahead)")]
        return []


@event_type("source.stale")
class SourceStale(CatalogPayload):
    """A price source produced nothing for `symbol` for `stale_after_s` seconds.

    It lands in the symbol's partition of the ticks, beside the ticks it is about, so
    whatever follows that symbol's prices (rules, the live page) learns in order that
    the last price it holds is old. The next tick of the symbol is the recovery.
    Not ingestable: only our own sources know when they went quiet.
    """

    category: ClassVar[str] = "ticks"

    source: str = Field(pattern=r"^[a-z0-9_-]{1,32}$", description="simulator, exchange, ...")
    venue: str = Venue
    symbol: Symbol
    silent_since: AwareDatetime = Field(
        description="The last tick's arrival, or the source's start when none came"
    )
    last_tick_at: AwareDatetime | None = Field(
        default=None, description="The source time of the last tick; none since the start"
    )
    stale_after_s: float = Field(gt=0, allow_inf_nan=False)
    at: AwareDatetime = Field(description="When the silence was noticed")

    def partition_key(self) -> str:
        return self.symbol


class _Coverage(CatalogPayload):
    """What a run of a price source reports: one symbol on one venue."""

    category: ClassVar[str] = "ticks"

    source: str = Field(pattern=r"^[a-z0-9_-]{1,32}$", description="simulator, exchange, ...")
    venue: str = Venue
    symbol: Symbol
    run_id: UUID = Field(description="This run of the source (a restart is another run)")

    def partition_key(self) -> str:
        return self.symbol


@event_type("source.started")
class SourceStarted(_Coverage):
    """A run of a price source began reporting `symbol` on `venue`.

    One per symbol, in the symbol's partition beside its ticks: what lets a rule on a
    symbol no source covers say so instead of waiting in silence (`price_coverage`).
    Not ingestable: only our own sources know what they report.
    """

    simulated: bool = False


@event_type("source.stopped")
class SourceStopped(_Coverage):
    """The run `run_id` of a price source stopped reporting `symbol` on `venue` (it was
    stopped, or its input ended). A run killed outright records nothing: its silence
    shows as the symbol's prices growing old."""

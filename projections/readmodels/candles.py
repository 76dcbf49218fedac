"""One-minute OHLCV candles per symbol and venue, by the venue's time of each tick.

Each venue is its own market: a price posted by hand (venue ``manual``) makes a candle
of its own and never a spike in another venue's. A tick lands in the minute of its
`source_time`. Open is the minute's first tick and
close its last, in stream order (the order the symbol's ticks were appended), so a late
tick from a slow venue closes the minute it belongs to rather than reopening it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from pymongo import IndexModel

from events.catalog import PriceTick
from events.envelope import RecordedEvent
from projections.model import Document, Projection
from projections.readmodels.indexes import paging_index
from projections.readmodels.prices import tick_of
from projections.registry import read_model


def minute_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def candle_id(symbol: str, venue: str, minute: datetime) -> str:
    return f"{symbol}|{venue}|{minute.isoformat()}"


@read_model()
class Candles(Projection):
    name: ClassVar[str] = "venue_candles"
    """Not ``candles``: that read model mixed every venue in one candle; a new name
    builds this one from the whole log instead of mixing the two shapes."""
    categories: ClassVar[tuple[str, ...]] = ("ticks",)
    types: ClassVar[frozenset[str] | None] = frozenset({PriceTick.event_type})
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("minute", "symbol"),
        paging_index("minute", "symbol", "venue"),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        tick = tick_of(recorded)
        return (candle_id(tick.symbol, tick.venue, minute_of(tick.source_time)),)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        tick = tick_of(recorded)
        if document is None:
            return {
                "symbol": tick.symbol,
                "venue": tick.venue,
                "minute": minute_of(tick.source_time),
                "open": tick.price,
                "high": tick.price,
                "low": tick.price,
                "close": tick.price,
                "volume": tick.volume,
                "ticks": 1,
            }
        document["high"] = max(document["high"], tick.price)
        document["low"] = min(document["low"], tick.price)
        document["close"] = tick.price
        document["volume"] += tick.volume
        document["ticks"] += 1
        return document

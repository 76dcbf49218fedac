"""The latest price of each symbol on each venue: what "price of ETH" answers.

Venues are separate markets (a price posted by hand, venue ``manual``, is not the
simulator's price), so there is one document per symbol and venue, ``BTC/USDT|binance``.
Latest means last in stream order, which is the order the ticks of one symbol were
appended (a symbol's ticks share a partition). A batch of a thousand ticks of one
symbol folds in memory and costs one write per venue.

A read that names no venue gets the symbol's latest price of any venue (`latest`): the
last tick appended, whichever venue it came from, named in the answer.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from events.catalog import PriceTick
from events.envelope import RecordedEvent
from projections.model import POSITION, Document, Projection
from projections.readmodels.indexes import paging_index
from projections.registry import read_model


def tick_of(recorded: RecordedEvent) -> PriceTick:
    payload = recorded.event.payload
    if not isinstance(payload, PriceTick):
        raise TypeError(f"expected a price.tick, got {recorded.event.type}")
    return payload


def market_key(symbol: str, venue: str) -> str:
    """The id of a symbol's document on one venue: ``BTC/USDT|binance``."""
    return f"{symbol}|{venue}"


@read_model()
class Prices(Projection):
    name: ClassVar[str] = "venue_prices"
    """Not ``prices``: that read model held one document per symbol, all venues mixed;
    a new name builds this one from the whole log instead of mixing the two shapes."""
    categories: ClassVar[tuple[str, ...]] = ("ticks",)
    types: ClassVar[frozenset[str] | None] = frozenset({PriceTick.event_type})
    indexes: ClassVar[tuple[IndexModel, ...]] = (
        paging_index("symbol"),
        paging_index("symbol", "venue"),
        IndexModel([("symbol", ASCENDING), (POSITION, DESCENDING)]),
    )

    def keys(self, recorded: RecordedEvent) -> tuple[str, ...]:
        tick = tick_of(recorded)
        return (market_key(tick.symbol, tick.venue),)

    def apply(self, key: str, document: Document | None, recorded: RecordedEvent) -> Document:
        tick = tick_of(recorded)
        return {
            "symbol": tick.symbol,
            "price": tick.price,
            "venue": tick.venue,
            "volume": tick.volume,
            "source_time": tick.source_time,
            "simulated": tick.simulated,
            "event_id": str(recorded.event.event_id),
            "stream": recorded.stream,
            "position": str(recorded.position),
            "updated_at": recorded.position.time,
        }


async def latest(
    collection: AsyncCollection[Document], symbol: str, venue: str | None = None
) -> Document | None:
    """The symbol's latest price on `venue`, or on whichever venue ticked last (None)."""
    if venue is not None:
        return await collection.find_one({"_id": market_key(symbol, venue)})
    return await collection.find_one({"symbol": symbol}, sort=[(POSITION, DESCENDING)])
